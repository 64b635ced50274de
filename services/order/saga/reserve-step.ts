import type { Money } from '#libs/money/money.js';
import { stockScopeOf, type InventoryPort } from '../domain/inventory-port.js';
import type { OrderRecord } from '../domain/types.js';
import type { Step } from './step.js';

/**
 * Consecutive UNAVAILABLE answers to reserve, per inventory client (so per
 * process, and per test's double). Each retry while inventory is down waits
 * longer, whichever order it is for, and the first answer resets the count:
 * it is inventory that is down, not the order that failed, so the count is
 * not stored with the order (nor spends its stock attempts).
 */
const unavailableStreaks = new WeakMap<InventoryPort, number>();

function totalOf(items: { quantity: number; unitPrice: Money }[]): Money | undefined {
  const currencies = new Set(items.map((i) => i.unitPrice.currencyCode));
  if (currencies.size !== 1) return undefined;
  return {
    currencyCode: items[0]!.unitPrice.currencyCode,
    minorUnits: items.reduce((sum, i) => sum + i.quantity * i.unitPrice.minorUnits, 0),
  };
}

/**
 * PENDING / AWAITING_STOCK: ask inventory for the stock (the order id is the
 * reservation key, so a retry after an unseen success is harmless, and
 * returns the same allocation). Where: the order's fulfilment decides — a
 * pickup at its location only, a delivery at the locations serving its
 * address, none anywhere (stockScopeOf).
 */
export async function reserveStep(step: Step): Promise<OrderRecord> {
  const { order, deps } = step;
  const items = order.items.map((i) => ({ productId: i.productId, quantity: i.quantity }));
  const outcome = await deps.inventory.reserve(order.id, items, deps.saga.reservationTtlMs, step.meta, stockScopeOf(order.fulfilment));
  const unavailable = outcome.kind === 'unavailable' ? (unavailableStreaks.get(deps.inventory) ?? 0) + 1 : 0;
  unavailableStreaks.set(deps.inventory, unavailable);
  // Stock is held for an order that does not know it yet: the restart's step asks again (same key, same answer).
  if (outcome.kind === 'reserved') deps.crash?.reached('reserve-answered');

  switch (outcome.kind) {
    case 'reserved': {
      const total = totalOf(outcome.items);
      if (!total) {
        await deps.inventory.release(order.id, 'items priced in different currencies', step.meta);
        return step.finish(
          { status: 'FAILED', cancelReason: 'items are priced in different currencies', nextAttemptAt: null },
          { reason: 'mixed currencies' },
        );
      }
      // Prices, total, status and the coming charge's PENDING in one write. The step
      // keeps its lease: payment comes next, in this process (advanceOrder); were it
      // to die, the lease lapses and a worker takes the order up, due since now, and
      // finds PENDING: it asks the gateway before charging, as after any crash.
      step.reservedUntil = outcome.expiresAt;
      // Only when the charge follows at once, with no extend first (see paymentStep).
      const charging = order.paymentStatus === 'NOT_STARTED' && step.reservationOutlivesCharge();
      const reserved = await step.record(
        {
          status: 'RESERVED',
          itemPrices: outcome.items,
          allocations: outcome.allocations,
          total,
          lastError: null,
          nextAttemptAt: step.now,
          ...(charging ? { paymentStatus: 'PENDING' as const, paymentAttempts: order.paymentAttempts + 1 } : {}),
        },
        { reason: 'stock reserved' },
      );
      step.chargeNotSent = charging;
      return reserved;
    }
    case 'insufficient': {
      const attempts = order.attempts + 1;
      if (attempts >= deps.saga.retry.maxAttempts) {
        return step.finish(
          {
            status: 'FAILED',
            attempts,
            lastError: outcome.message,
            cancelReason: `stock did not arrive after ${attempts} attempts`,
            nextAttemptAt: null,
          },
          { reason: `stock did not arrive after ${attempts} attempts`, error: outcome.message },
        );
      }
      // The log records entering AWAITING_STOCK; later retries only move the backoff.
      return step.retryLater(
        attempts,
        outcome.message,
        { status: 'AWAITING_STOCK', attempts },
        { reason: 'insufficient stock', error: outcome.message },
      );
    }
    case 'rejected':
      return step.finish(
        { status: 'FAILED', lastError: outcome.message, cancelReason: outcome.message, nextAttemptAt: null },
        { reason: 'inventory refused the reservation', error: outcome.message },
      );
    case 'locationRefused': {
      // Like any reservation inventory will never grant: the order fails, saying why.
      const why =
        outcome.reason === 'LOCATION_NOT_FOUND'
          ? `pickup location ${outcome.locationId} does not exist`
          : `pickup location ${outcome.locationId} is not active`;
      return step.finish(
        { status: 'FAILED', lastError: outcome.message, cancelReason: why, nextAttemptAt: null },
        { reason: why, error: outcome.message },
      );
    }
    case 'gone':
      return step.finish(
        {
          status: 'CANCELLED',
          lastError: outcome.message,
          cancelReason: 'the reservation expired before the order could use it',
          nextAttemptAt: null,
        },
        { reason: 'reservation expired', error: outcome.message },
      );
    case 'unavailable':
      // Not the order's fault: retry without spending one of its stock attempts, later the longer inventory stays down.
      return step.retryLater(order.attempts + unavailable, outcome.message);
  }
}
