import type { Pool } from '#libs/db/types.js';
import type { PaymentGateway } from './payment-port.js';
import type { InventoryPort } from './inventory-port.js';
import type { OutboxEvent } from '#libs/events/outbox.js';
import type { Clock } from '#libs/timers/clock.js';
import type { CrashPoints } from '#libs/process/crash-points.js';
import type { ClaimedOrder } from './order-write-types.js';
import type { OrderRecord, OrderStatus, Random } from './types.js';

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
  /** A Checkout/CreateOrder call's inline saga step failed (the order waits for the worker). */
  inlineStepFailed(): void;
}

/**
 * The order's facts as outbox rows. A port: contract/events.ts (wired in app.ts)
 * encodes them as protobuf, so no use case imports generated code.
 */
export interface OrderEvents {
  /** The event announcing that `order` entered its current status. */
  orderStatus(order: OrderRecord, ctx: { correlationId?: string; now: Date }): OutboxEvent;
}

/** Runs a claimed order on by one saga step (saga/advance-order.ts; wired in app.ts so the domain need not import the saga). */
export type AdvanceOrder = (claimed: ClaimedOrder, correlationId?: string, options?: { detachPayment?: boolean }) => Promise<OrderRecord>;

/** What the order service's use cases need; built once in app.ts (or per test). */
export interface OrderDeps {
  db: Pool;
  clock: Clock;
  random: Random;
  inventory: InventoryPort;
  payments: PaymentGateway;
  saga: SagaSettings;
  events: OrderEvents;
  /** Checkout and CancelOrder take the order's next step inline, under the lease they hold. */
  advance: AdvanceOrder;
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
  /** Test-only crash points in the saga (LARDER_CRASH_AT); absent means none. */
  crash?: CrashPoints;
}
