import { failedPrecondition, invalid, notFound } from '#libs/errors/app-error.js';
import { inTransaction } from '#libs/db/in-transaction.js';
import { postalCode } from '#libs/validation/geo.js';
import type { RequestContext } from '#libs/context/request-context.js';
import { findOrder } from '../data/orders.js';
import { changeOrder } from './change-order.js';
import type { OrderDeps } from './deps.js';
import { canTransition, isTerminal } from './order-status.js';
import type { OrderRecord, OrderStatus, ShippingAddress } from './types.js';

export interface UpdateOrderCommand {
  id: string;
  expectedVersion?: number;
  shippingAddress?: ShippingAddress;
  /** Fulfilment: SHIPPED or DELIVERED only. */
  status?: OrderStatus;
}

/** Shipping address (until the order ships or ends) and fulfilment moves, guarded by the etag when given. */
export async function updateOrder(deps: OrderDeps, ctx: RequestContext, command: UpdateOrderCommand): Promise<OrderRecord> {
  const now = deps.clock.now();
  let before: OrderStatus | undefined;
  const updated = await inTransaction(deps, async (trx) => {
    const order = await findOrder(trx, command.id, { forUpdate: true });
    if (!order) throw notFound('order', command.id);
    before = order.status;
    const guard = { version: command.expectedVersion ?? order.version };
    checkOrderUpdate(order, command);
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

/**
 * Whether UpdateOrder may apply `command` to `order`: throws the refusal, or
 * returns. Once an order has shipped or ended, its address is frozen, whatever
 * status the request also asks for (the same one again included). Pure, so the
 * rule is tested over every status.
 */
export function checkOrderUpdate(
  order: Pick<OrderRecord, 'id' | 'status' | 'cancelRequested' | 'shippingAddress'> & Partial<Pick<OrderRecord, 'fulfilment'>>,
  command: Pick<UpdateOrderCommand, 'status' | 'shippingAddress'>,
): void {
  const metadata = { order_id: order.id, status: order.status };
  const moving = command.status !== undefined && command.status !== order.status;
  if (moving && (!canTransition(order.status, command.status!) || order.cancelRequested)) {
    throw failedPrecondition(`order ${order.id} cannot go from ${order.status} to ${command.status}`, {
      reason: 'ILLEGAL_ORDER_TRANSITION',
      metadata,
    });
  }
  if (command.shippingAddress && (order.status === 'SHIPPED' || order.status === 'DELIVERED')) {
    throw failedPrecondition(`order ${order.id} has shipped; its address can no longer change`, { reason: 'ORDER_SHIPPED', metadata });
  }
  if (command.shippingAddress && isTerminal(order.status)) {
    throw failedPrecondition(`order ${order.id} is ${order.status}; its address can no longer change`, { reason: 'ORDER_ENDED', metadata });
  }
  // A delivery's address is the order's shipping address: a new one must still be one routing can match.
  if (command.shippingAddress && order.fulfilment?.kind === 'delivery') {
    postalCode('order.shipping_address.postal_code', command.shippingAddress.postalCode, { required: true });
  }
  if (moving && command.status === 'SHIPPED' && !(command.shippingAddress ?? order.shippingAddress)) {
    throw invalid('order.shipping_address', 'is required before the order can ship');
  }
}
