import type { OrderPatch } from './order-write-types.js';
import type { OrderRecord } from './types.js';

/** `null` in a patch clears a field; the record says that with `undefined`. */
const cleared = <T>(value: T | null | undefined, current: T | undefined): T | undefined =>
  value === undefined ? current : (value ?? undefined);

/**
 * The order as it will read once `patch` is written over `order` at `now`:
 * what a single-statement write can announce in its event without reading
 * the row back. Mirrors patchColumns (data/orders.ts) field for field.
 */
export function applyPatch(order: OrderRecord, patch: OrderPatch, now: Date): OrderRecord {
  const prices = new Map((patch.itemPrices ?? []).map((p) => [p.productId, p.unitPrice]));
  return {
    ...order,
    status: patch.status ?? order.status,
    paymentStatus: patch.paymentStatus ?? order.paymentStatus,
    attempts: patch.attempts ?? order.attempts,
    paymentAttempts: patch.paymentAttempts ?? order.paymentAttempts,
    lastError: cleared(patch.lastError, order.lastError),
    cancelReason: cleared(patch.cancelReason, order.cancelReason),
    cancelRequested: patch.cancelRequested ?? order.cancelRequested,
    reservationExpired: patch.reservationExpired ?? order.reservationExpired,
    nextAttemptAt: cleared(patch.nextAttemptAt, order.nextAttemptAt),
    shippingAddress: cleared(patch.shippingAddress, order.shippingAddress),
    deletedAt: cleared(patch.deletedAt, order.deletedAt),
    total: patch.total ?? order.total,
    allocations: patch.allocations ? [...patch.allocations] : order.allocations,
    items: order.items.map((item) => (prices.has(item.productId) ? { ...item, unitPrice: prices.get(item.productId) } : item)),
    version: order.version + 1,
    updatedAt: now,
  };
}
