import { failedPrecondition, notFound } from '#libs/errors/app-error.js';
import { claimOrder, findOrder } from '../data/orders.js';
import { changeOrder } from './change-order.js';
import { inTransaction } from '#libs/db/in-transaction.js';
import type { RequestContext } from '#libs/context/request-context.js';
import { type OrderDeps } from './deps.js';
import { CANCELLABLE } from './order-status.js';
import type { OrderRecord } from './types.js';

/**
 * Records the cancellation request durably, then runs the cancel step inline
 * when no saga step holds the order (the usual case): the caller gets the
 * CANCELLED order with its stock released and payment refunded. If a step is
 * in flight, the order keeps cancel_requested and the worker cancels it as
 * soon as that step ends. Repeats are harmless. With `owner` (a customer's
 * token), another customer's order is NOT_FOUND, as a missing one is.
 */
export async function cancelOrder(
  deps: OrderDeps,
  ctx: RequestContext,
  orderId: string,
  reason: string,
  owner?: string,
): Promise<OrderRecord> {
  const now = deps.clock.now();
  const requested = await inTransaction(deps, async (trx) => {
    const order = await findOrder(trx, orderId, { forUpdate: true });
    if (!order || (owner !== undefined && order.customerId !== owner)) throw notFound('order', orderId);
    if (order.status === 'CANCELLED' || order.cancelRequested) return order;
    if (!CANCELLABLE.has(order.status)) {
      throw failedPrecondition(`order ${orderId} is ${order.status} and can no longer be cancelled`, {
        reason: 'ILLEGAL_ORDER_TRANSITION',
        metadata: { order_id: orderId, status: order.status },
      });
    }
    const { order: flagged } = await changeOrder(
      deps,
      trx,
      order,
      'none',
      { cancelRequested: true, cancelReason: reason || 'cancelled by request', nextAttemptAt: now, flaggedAt: now },
      { reason: 'cancellation requested', correlationId: ctx.correlationId },
      now,
    );
    return flagged;
  });
  if (requested.status === 'CANCELLED') return requested;
  const claimed = await claimOrder(deps.db, orderId, deps.clock.now(), deps.saga.leaseMs);
  if (!claimed) {
    deps.wakeWorker();
    return requested;
  }
  return deps.advance(claimed, ctx.correlationId);
}
