import { randomUUID } from 'node:crypto';
import { orderEvents } from '../../contract/events.js';
import type { Knex } from 'knex';
import { createTestDatabase, type TestDatabase } from '#test/support/test-database.js';
import { listOrderEvents } from '../../data/order-events.js';
import { claimOrder, findOrder, insertOrderItems } from '../../data/orders.js';
import { claimOrderKey } from '../../data/placed-order.js';
import type { OrderDeps, SagaSettings } from '../../domain/deps.js';
import type { CallMeta, InventoryPort, ReserveOutcome, SettleOutcome } from '../../domain/inventory-port.js';
import type { Money } from '#libs/money/money.js';
import type { AllocationRecord, Fulfilment, OrderEventRecord, OrderRecord, OrderStatus, PaymentStatus } from '../../domain/types.js';
import { orderMigrations } from '../../migrations/index.js';
import type { ChargeOutcome, ChargeRecord, PaymentGateway } from '../../domain/payment-port.js';
import { advanceOrder } from '../../saga/advance-order.js';

/**
 * The saga steps in-process: a real order database, and scripted doubles for
 * the two outside parties (inventory and the payment gateway) that log every
 * call and answer what the test scripted. In-process, so mutation testing's
 * per-test coverage sees these steps (the checkout tests run them in a child
 * process, where it cannot).
 */

export const NOW = new Date('2030-05-06T07:08:09.000Z');
export const EUR = (minorUnits: number): Money => ({ currencyCode: 'EUR', minorUnits });

export const SETTINGS: SagaSettings = {
  retry: { baseMs: 1_000, maxMs: 60_000, maxAttempts: 3 },
  paymentMaxAttempts: 3,
  paymentTimeoutMs: 700,
  reservationTtlMs: 90_000,
  leaseMs: 30_000,
};

/** A call to one of the doubles: name and arguments, in the order made. */
export interface Call {
  op: string;
  args: unknown[];
}

type Answer<T> = T | (() => T | Promise<T>);

/** A double whose methods answer from a per-method queue, then from a default; every call is logged. */
class Scripted<T extends Record<string, unknown>> {
  readonly calls: Call[] = [];
  private readonly queues = new Map<keyof T, Answer<T[keyof T]>[]>();

  constructor(private readonly defaults: { [K in keyof T]: T[K] }) {}

  /** Answers for the next calls of `op`, in order; after them the default applies. */
  next<K extends keyof T>(op: K, ...answers: Answer<T[K]>[]): void {
    this.queues.set(op, [...(this.queues.get(op) ?? []), ...(answers as Answer<T[keyof T]>[])]);
  }

  async answer<K extends keyof T>(op: K, args: unknown[]): Promise<T[K]> {
    this.calls.push({ op: String(op), args });
    const queued = this.queues.get(op)?.shift() as Answer<T[K]> | undefined;
    const value = queued ?? this.defaults[op];
    return typeof value === 'function' ? (value as () => T[K] | Promise<T[K]>)() : value;
  }

  ops(): string[] {
    return this.calls.map((c) => c.op);
  }
}

interface InventoryAnswers extends Record<string, unknown> {
  reserve: ReserveOutcome;
  extend: SettleOutcome;
  commit: SettleOutcome;
  release: SettleOutcome;
  restock: SettleOutcome;
}

interface GatewayAnswers extends Record<string, unknown> {
  charge: ChargeOutcome;
  lookup: ChargeRecord | { status: 'unavailable' };
  refund: { kind: 'refunded' | 'nothing_to_refund' } | { kind: 'unavailable'; reason: string };
}

export function scriptedInventory(): Scripted<InventoryAnswers> & { port: InventoryPort } {
  const script = new Scripted<InventoryAnswers>({
    reserve: { kind: 'unavailable', message: 'reserve not scripted' },
    extend: { kind: 'done' },
    commit: { kind: 'done' },
    release: { kind: 'done' },
    restock: { kind: 'done' },
  });
  const port: InventoryPort = {
    // The scope (a fulfilment's location or destination) is logged only when there is one.
    reserve: (orderId, items, ttlMs, meta: CallMeta, scope) =>
      script.answer('reserve', [orderId, items, ttlMs, meta, ...(scope ? [scope] : [])]),
    extend: (orderId, ttlMs, meta) => script.answer('extend', [orderId, ttlMs, meta]),
    commit: (orderId, meta) => script.answer('commit', [orderId, meta]),
    release: (orderId, reason, meta) => script.answer('release', [orderId, reason, meta]),
    restock: (productId, quantity, key, meta, locationId) =>
      script.answer('restock', [productId, quantity, key, meta, ...(locationId ? [locationId] : [])]),
    availability: async () => {
      throw new Error('the saga never asks for availability');
    },
    location: async () => {
      throw new Error('the saga never asks for a location');
    },
  };
  return Object.assign(script, { port });
}

export function scriptedGateway(): Scripted<GatewayAnswers> & { gateway: PaymentGateway } {
  const script = new Scripted<GatewayAnswers>({
    charge: { kind: 'captured', chargeId: 'ch_1' },
    lookup: { status: 'none' },
    refund: { kind: 'refunded' },
  });
  const gateway: PaymentGateway = {
    charge: (request, timeoutMs) => script.answer('charge', [request, timeoutMs]),
    lookup: (orderId) => script.answer('lookup', [orderId]),
    refund: (orderId) => script.answer('refund', [orderId]),
  };
  return Object.assign(script, { gateway });
}

/** What an order starts as in a test: the columns a step reads. */
export interface OrderSetup {
  status?: OrderStatus;
  paymentStatus?: PaymentStatus;
  items?: { productId: string; quantity: number; unitPrice?: Money }[];
  total?: Money;
  attempts?: number;
  paymentAttempts?: number;
  cancelRequested?: boolean;
  cancelReason?: string;
  reservationExpired?: boolean;
  lastError?: string;
  correlationId?: string;
  /** How the order reaches the customer (a delivery's address becomes its shipping address). */
  fulfilment?: Fulfilment;
  /** Where its units are reserved, as a reserved order records them. */
  allocations?: AllocationRecord[];
}

export interface SagaHarness {
  db: Knex;
  inventory: ReturnType<typeof scriptedInventory>;
  gateway: ReturnType<typeof scriptedGateway>;
  deps: OrderDeps;
  /** Transitions the observer saw, as `from>to`. */
  transitions: string[];
  /** How often a committed transaction woke the relay. */
  afterCommits: number;
  /** Background work the steps handed to carryOn (await them before asserting on it). */
  carried: Promise<unknown>[];
  /** Inserts an order in the given state (due now, no lease). */
  order(setup?: OrderSetup): Promise<OrderRecord>;
  /** Claims the order and runs one saga step on it, as the worker would. */
  advance(orderId: string, correlationId?: string, options?: { detachPayment?: boolean }): Promise<OrderRecord>;
  /** The order as stored now. */
  stored(orderId: string): Promise<OrderRecord>;
  events(orderId: string): Promise<OrderEventRecord[]>;
  /** Fresh doubles and counters, same database (runs before each test). */
  reset(): void;
}

export const PRODUCT_A = '0190a000-0000-7000-8000-00000000000a';
export const PRODUCT_B = '0190a000-0000-7000-8000-00000000000b';

/**
 * One harness per test file: its own database (created in `before`, dropped in
 * `after`), fresh doubles for every test (`beforeEach`). Call inside describe().
 */
export function useSagaHarness(): SagaHarness {
  let database: TestDatabase | undefined;
  const harness = { transitions: [] as string[], afterCommits: 0 } as unknown as SagaHarness;
  before(async () => {
    database = await createTestDatabase('saga_steps', orderMigrations);
    harness.db = database.db;
  });
  beforeEach(() => harness.reset());
  after(async () => {
    await database?.drop();
  });

  harness.reset = () => {
    harness.inventory = scriptedInventory();
    harness.gateway = scriptedGateway();
    harness.transitions = [];
    harness.afterCommits = 0;
    harness.carried = [];
    harness.deps = {
      db: harness.db,
      clock: { now: () => NOW },
      // Jitter at its midpoint: a backoff of base·2^(n−1) waits exactly 3/4 of it.
      random: () => 0.5,
      inventory: harness.inventory.port,
      payments: harness.gateway.gateway,
      saga: SETTINGS,
      events: orderEvents,
      advance: (claimed, correlationId, options) => advanceOrder(harness.deps, claimed, correlationId, options),
      afterCommit: () => {
        harness.afterCommits += 1;
      },
      wakeWorker: () => undefined,
      // Work an inline step hands to the background (the service's worker tracks it).
      carryOn: (work: () => Promise<unknown>) => {
        harness.carried.push(work());
      },
      observer: {
        transition: (from: string, to: string) => harness.transitions.push(`${from}>${to}`),
        checkout: () => undefined,
        inlineStepFailed: () => undefined,
      },
    } as OrderDeps;
  };

  harness.order = async (setup = {}) => {
    const id = randomUUID();
    const items = setup.items ?? [{ productId: PRODUCT_A, quantity: 2, unitPrice: EUR(250) }];
    await harness.db.transaction(async (trx) => {
      await claimOrderKey(
        trx,
        {
          id,
          customerId: randomUUID(),
          idempotencyKey: randomUUID(),
          requestHash: 'hash',
          paymentToken: 'tok_visa',
          correlationId: setup.correlationId,
          fulfilment: setup.fulfilment,
          shippingAddress: setup.fulfilment?.kind === 'delivery' ? setup.fulfilment.address : undefined,
        },
        NOW,
        NOW,
      );
      await insertOrderItems(trx, id, items);
      for (const item of items.filter((i) => i.unitPrice)) {
        await trx('order_items')
          .update({ unit_price_minor: item.unitPrice!.minorUnits, currency_code: item.unitPrice!.currencyCode })
          .where({ order_id: id, product_id: item.productId });
      }
      const total = setup.total ?? (setup.status && setup.status !== 'PENDING' ? EUR(500) : undefined);
      await trx('orders')
        .update({
          status: setup.status ?? 'PENDING',
          payment_status: setup.paymentStatus ?? 'NOT_STARTED',
          total_minor: total?.minorUnits ?? null,
          currency_code: total?.currencyCode ?? null,
          attempts: setup.attempts ?? 0,
          payment_attempts: setup.paymentAttempts ?? 0,
          cancel_requested: setup.cancelRequested ?? false,
          cancel_reason: setup.cancelReason ?? null,
          reservation_expired: setup.reservationExpired ?? false,
          last_error: setup.lastError ?? null,
          allocations: setup.allocations ? JSON.stringify(setup.allocations) : null,
        })
        .where({ id });
    });
    return harness.stored(id);
  };

  harness.stored = async (orderId) => {
    const order = await findOrder(harness.db, orderId, { includeDeleted: true });
    if (!order) throw new Error(`order ${orderId} is not stored`);
    return order;
  };

  harness.advance = async (orderId, correlationId, options) => {
    const claim = await claimOrder(harness.db, orderId, NOW, SETTINGS.leaseMs);
    if (!claim) throw new Error(`order ${orderId} could not be claimed`);
    return advanceOrder(harness.deps, claim, correlationId, options);
  };

  harness.events = (orderId) => listOrderEvents(harness.db, orderId);
  return harness;
}

/** The lease columns of an order: a finished step leaves none. */
export async function leaseOf(db: Knex, orderId: string): Promise<{ lease_token: string | null; lease_until: Date | null }> {
  return db('orders').select('lease_token', 'lease_until').where({ id: orderId }).first();
}

/** When an order is due next, in ms after NOW (null: not due until something happens). */
export function dueInMs(order: OrderRecord): number | null {
  return order.nextAttemptAt ? order.nextAttemptAt.getTime() - NOW.getTime() : null;
}
