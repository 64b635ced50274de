import { failedPrecondition, invalid, notFound } from '#libs/errors/app-error.js';
import { splitPage } from '#libs/db/keyset-page.js';
import { listOrderEvents } from '../data/order-events.js';
import { findOrder, listOrders } from '../data/orders.js';
import { changeOrder } from './change-order.js';
import { inTransaction } from '#libs/db/in-transaction.js';
import type { RequestContext } from '#libs/context/request-context.js';
import { type OrderDeps } from './deps.js';
import { canTransition, isTerminal } from './order-status.js';
import type { OrderEventRecord, OrderRecord, OrderStatus, ShippingAddress } from './types.js';

export async function getOrder(deps: OrderDeps, id: string, includeDeleted = false): Promise<OrderRecord> {
  const order = await findOrder(deps.db, id, { includeDeleted });
  if (!order) throw notFound('order', id);
  return order;
}

export async function listOrderPage(
  deps: OrderDeps,
  filter: { customerId: string; status?: OrderStatus; includeDeleted: boolean },
  beforeId: string | undefined,
  pageSize: number,
) {
  const rows = await listOrders(deps.db, filter, beforeId, pageSize + 1);
  const { page, nextKey } = splitPage(rows, pageSize, (order) => order.id);
  return { orders: page, nextBeforeId: nextKey };
}

export async function orderLog(deps: OrderDeps, orderId: string): Promise<OrderEventRecord[]> {
  await getOrder(deps, orderId, true);
  return listOrderEvents(deps.db, orderId);
}

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
