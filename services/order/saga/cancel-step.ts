import { cancelRestocksOf } from '../domain/inventory-port.js';
import type { OrderRecord } from '../domain/types.js';
import { releaseAndEnd } from './release-and-end.js';
import type { Step } from './step.js';

/**
 * CancelOrder was accepted: undo what the order holds. An unknown charge is
 * resolved first, a captured one refunded; held stock is released; a
 * confirmed order's sold units go back on the shelf where they were sold
 * from (restock, idempotent per product and location: cancelRestocksOf). Every call is idempotent, so a crash part-way just runs it again.
 */
export async function cancelStep(step: Step): Promise<OrderRecord> {
  const { deps, order } = step;
  const reason = order.cancelReason || 'cancelled by request';
  if (order.paymentStatus === 'PENDING') {
    const known = await deps.payments.lookup(order.id);
    if (known.status === 'unavailable') return step.retryLater(order.paymentAttempts + 1, 'payment gateway unavailable');
    await step.record({
      paymentStatus: known.status === 'captured' ? 'CAPTURED' : known.status === 'declined' ? 'DECLINED' : 'NOT_STARTED',
    });
  }
  if (step.order.paymentStatus === 'CAPTURED') {
    const refund = await deps.payments.refund(order.id);
    if (refund.kind === 'unavailable') return step.retryLater(order.paymentAttempts + 1, refund.reason);
    await step.record({ paymentStatus: 'REFUNDED' });
  }
  if (order.status === 'CONFIRMED') {
    for (const due of cancelRestocksOf(order.id, order.items, order.allocations)) {
      const restocked = await deps.inventory.restock(due.productId, due.quantity, due.idempotencyKey, step.meta, due.locationId);
      if (restocked.kind === 'unavailable') return step.retryLater(order.paymentAttempts + 1, restocked.message);
    }
    return step.finish({ status: 'CANCELLED', cancelRequested: false, nextAttemptAt: null }, { reason });
  }
  return releaseAndEnd(step, 'CANCELLED', reason);
}
