import type { Knex } from 'knex';
import type { PaymentGateway } from '../payments/gateway.js';
import type { InventoryPort } from './inventory-port.js';
import type { Clock } from '#libs/timers/clock.js';
import type { OrderStatus, Random } from './types.js';

export interface SagaSettings {
  retry: { baseMs: number; maxMs: number; maxAttempts: number };
  paymentMaxAttempts: number;
  paymentTimeoutMs: number;
  reservationTtlMs: number;
  /** How long a claimed order is ours before another worker may take it. */
  leaseMs: number;
}

/** Counts what the saga does (metrics); optional so tests can leave it out. */
export interface OrderObserver {
  transition(from: OrderStatus | undefined, to: OrderStatus): void;
  /** A Checkout/CreateOrder call's result: the status it left the order in, or the error reason. */
  checkout(outcome: string): void;
}

/** What the order service's use cases need; built once in app.ts (or per test). */
export interface OrderDeps {
  db: Knex;
  clock: Clock;
  random: Random;
  inventory: InventoryPort;
  payments: PaymentGateway;
  saga: SagaSettings;
  /** After a transaction that wrote outbox rows commits (wakes the relay). */
  afterCommit(): void;
  /** An order became due now (wakes the saga worker). */
  wakeWorker(): void;
  /**
   * Runs a step of a claimed order after the request that started it has been
   * answered (the worker tracks it, so shutdown waits for it; a failure is
   * logged and the order's lease lapses to the next worker).
   */
  carryOn(work: () => Promise<unknown>, orderId: string): void;
  observer?: OrderObserver;
}
