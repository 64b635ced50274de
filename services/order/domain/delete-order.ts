import { failedPrecondition, notFound } from '#libs/errors/app-error.js';
import { inTransaction } from '#libs/db/in-transaction.js';
import type { RequestContext } from '#libs/context/request-context.js';
import { findOrder } from '../data/orders.js';
import { changeOrder } from './change-order.js';
import type { OrderDeps } from './deps.js';
import { isTerminal } from './order-status.js';
import type { OrderRecord } from './types.js';

/** Soft delete: only orders the saga is done with. */
export async function deleteOrder(deps: OrderDeps, ctx: RequestContext, id: string): Promise<OrderRecord> {
  const now = deps.clock.now();
  return inTransaction(deps, async (trx) => {
    const order = await findOrder(trx, id, { includeDeleted: true, forUpdate: true });
    if (!order) throw notFound('order', id);
    if (order.deletedAt) return order;
    if (!isTerminal(order.status)) {
      throw failedPrecondition(`order ${id} is ${order.status}; only delivered, cancelled or failed orders can be deleted`, {
        reason: 'ORDER_IN_PROGRESS',
        metadata: { status: order.status },
      });
    }
    const { order: deleted } = await changeOrder(
      deps,
      trx,
      order,
      'none',
      { deletedAt: now },
      { reason: 'deleted', correlationId: ctx.correlationId },
      now,
    );
    return deleted;
  });
}
