import { failedPrecondition, invalid, notFound } from '#libs/errors/app-error.js';
import { inTransaction } from '#libs/db/in-transaction.js';
import type { RequestContext } from '#libs/context/request-context.js';
import { findOrder } from '../data/orders.js';
import { changeOrder } from './change-order.js';
import type { OrderDeps } from './deps.js';
import { canTransition } from './order-status.js';
import type { OrderRecord, OrderStatus, ShippingAddress } from './types.js';

export interface UpdateOrderCommand {
  id: string;
  expectedVersion?: number;
  shippingAddress?: ShippingAddress;
  /** Fulfilment: SHIPPED or DELIVERED only. */
  status?: OrderStatus;
}

/** Shipping address (until shipped) and fulfilment moves, guarded by the etag when given. */
export async function updateOrder(deps: OrderDeps, ctx: RequestContext, command: UpdateOrderCommand): Promise<OrderRecord> {
  const now = deps.clock.now();
  let before: OrderStatus | undefined;
  const updated = await inTransaction(deps, async (trx) => {
    const order = await findOrder(trx, command.id, { forUpdate: true });
    if (!order) throw notFound('order', command.id);
    before = order.status;
    const guard = { version: command.expectedVersion ?? order.version };
    if (command.status && command.status !== order.status) {
      if (!canTransition(order.status, command.status) || order.cancelRequested) {
        throw failedPrecondition(`order ${order.id} cannot go from ${order.status} to ${command.status}`, {
          reason: 'ILLEGAL_ORDER_TRANSITION',
          metadata: { order_id: order.id, status: order.status },
        });
      }
    }
    if (command.shippingAddress && ['SHIPPED', 'DELIVERED'].includes(command.status ?? order.status) && !command.status) {
      throw failedPrecondition(`order ${order.id} has shipped; its address can no longer change`, { reason: 'ORDER_SHIPPED' });
    }
    if (command.status === 'SHIPPED' && !(command.shippingAddress ?? order.shippingAddress)) {
      throw invalid('order.shipping_address', 'is required before the order can ship');
    }
    const { order: updated } = await changeOrder(
      deps,
      trx,
      order,
      guard,
      { status: command.status, shippingAddress: command.shippingAddress },
      { reason: command.status ? `marked ${command.status.toLowerCase()}` : 'shipping address changed', correlationId: ctx.correlationId },
      now,
    );
    return updated;
  });
  if (before !== updated.status) deps.observer?.transition(before, updated.status);
  return updated;
}
