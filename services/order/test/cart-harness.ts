import { expect } from 'chai';
import { AppError, type ErrorKind } from '#libs/errors/app-error.js';
import type { CartServiceService } from '#libs/contracts/larder/order/v1/cart_service.js';
import type { CallContext } from '#libs/grpc/call-context.js';
import type { Db } from '#libs/db/types.js';
import { handlersOf } from '#libs/grpc/rpc-table.js';
import type { Handlers } from '#libs/grpc/server.js';
import { silentLogger } from '#libs/logging/logger.js';
import { orderEvents } from '../contract/events.js';
import type { OrderDeps } from '../domain/deps.js';
import type { AvailabilityOutcome, InventoryPort, LocationOutcome, StockScope } from '../domain/inventory-port.js';
import type { PaymentGateway } from '../domain/payment-port.js';
import { cartRpcs } from '../transport/carts.js';

/** CartService in-process on a test database, with a stand-in for inventory (carts.test.ts, cart-fulfilment.test.ts). */

export const ctx: CallContext = { correlationId: 'test', caller: 'test', logger: silentLogger() };

const notUsedHere = (what: string) => () => {
  throw new Error(`${what} must not be called by cart operations`);
};

/**
 * A stand-in for inventory answering only availability(), from a Map of
 * product id → units available; products not in it are unknown. The real
 * inventory (over gRPC) is exercised by the end-to-end tests elsewhere.
 */
export class StubInventory implements InventoryPort {
  readonly available = new Map<string, number>();
  /** Units available in a scope: key `${JSON.stringify(scope)} ${productId}`; a scope not listed has 0. */
  readonly availableIn = new Map<string, number>();
  /** Locations inventory knows, by id. */
  readonly locations = new Map<string, { active: boolean; pickup: boolean }>();
  down = false;
  readonly asked: { productId: string; correlationId?: string; scope?: StockScope }[] = [];

  async availability(productId: string, meta: { correlationId?: string }, scope?: StockScope): Promise<AvailabilityOutcome> {
    this.asked.push({ productId, correlationId: meta.correlationId, ...(scope ? { scope } : {}) });
    if (this.down) return { kind: 'unavailable', message: 'inventory is down (test)' };
    const available = this.available.get(productId);
    if (available === undefined) return { kind: 'notFound' };
    return { kind: 'found', available: scope ? (this.availableIn.get(`${JSON.stringify(scope)} ${productId}`) ?? 0) : available };
  }

  async location(locationId: string): Promise<LocationOutcome> {
    if (this.down) return { kind: 'unavailable', message: 'inventory is down (test)' };
    const location = this.locations.get(locationId);
    return location ? { kind: 'found', ...location } : { kind: 'notFound' };
  }

  reserve = notUsedHere('inventory.reserve');
  extend = notUsedHere('inventory.extend');
  commit = notUsedHere('inventory.commit');
  release = notUsedHere('inventory.release');
  restock = notUsedHere('inventory.restock');
}

const payments: PaymentGateway = {
  charge: notUsedHere('payments.charge'),
  lookup: notUsedHere('payments.lookup'),
  refund: notUsedHere('payments.refund'),
};

/** Awaits a call that must fail with an AppError of `kind`; returns it. */
export async function rejection(call: Promise<unknown>, kind: ErrorKind, field?: string): Promise<AppError> {
  let thrown: unknown;
  try {
    await call;
  } catch (error) {
    thrown = error;
  }
  expect(thrown, `expected an AppError of kind ${kind}, but the call succeeded`).to.be.instanceOf(AppError);
  const error = thrown as AppError;
  expect(error.kind, error.message).to.equal(kind);
  if (field !== undefined) expect(error.field, error.message).to.equal(field);
  return error;
}

/** The CartService handlers over `db`, asking `inventory`, at the time `clock` says. */
export function cartHandlers(db: Db, inventory: InventoryPort, clock: { now: () => Date }): Handlers<typeof CartServiceService> {
  const deps: OrderDeps = {
    db,
    clock,
    random: notUsedHere('random'),
    inventory,
    payments,
    saga: {
      retry: { baseMs: 1000, maxMs: 60_000, maxAttempts: 5 },
      paymentMaxAttempts: 3,
      paymentTimeoutMs: 1000,
      reservationTtlMs: 60_000,
      leaseMs: 30_000,
    },
    events: orderEvents,
    advance: notUsedHere('advance'),
    afterCommit: notUsedHere('afterCommit'),
    wakeWorker: notUsedHere('wakeWorker'),
    carryOn: notUsedHere('carryOn'),
  };
  return handlersOf(cartRpcs, deps);
}
