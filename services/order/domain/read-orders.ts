import { notFound } from '#libs/errors/app-error.js';
import { splitPage } from '#libs/db/keyset-page.js';
import { listOrderEvents } from '../data/order-events.js';
import { findOrder, listOrders } from '../data/orders.js';
import type { OrderDeps } from './deps.js';
import type { OrderEventRecord, OrderRecord, OrderStatus } from './types.js';

/** The order reads: GetOrder, ListOrders, GetOrderHistory and WatchOrder's polls. */

/** What a read may see: soft-deleted orders too, and (a customer's token) only that customer's orders. */
export interface OrderVisibility {
  includeDeleted?: boolean;
  /** Another customer's order is NOT_FOUND, exactly as a missing one: its existence is not revealed. */
  owner?: string;
}

export async function getOrder(deps: OrderDeps, id: string, { includeDeleted = false, owner }: OrderVisibility = {}): Promise<OrderRecord> {
  const order = await findOrder(deps.db, id, { includeDeleted });
  if (!order || (owner !== undefined && order.customerId !== owner)) throw notFound('order', id);
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

export async function orderLog(deps: OrderDeps, orderId: string, owner?: string): Promise<OrderEventRecord[]> {
  await getOrder(deps, orderId, { includeDeleted: true, owner });
  return listOrderEvents(deps.db, orderId);
}

/** The order's log entries after `afterSequence` (WatchOrder polls it; no existence check, the watcher read the order). */
export function orderLogSince(deps: Pick<OrderDeps, 'db'>, orderId: string, afterSequence = 0): Promise<OrderEventRecord[]> {
  return listOrderEvents(deps.db, orderId, afterSequence);
}
