import type { Db } from '#libs/db/types.js';
import type { AllocationRecord, OrderStatus } from '../domain/types.js';

/** What the reconciler (scripts/reconcile) compares of an order with its reservation. */
export interface OrderSnapshot {
  id: string;
  status: OrderStatus;
  updatedAt: Date;
  /** Set while a saga step holds the order. */
  leaseUntil: Date | null;
}

/** One page of orders in id order, after `afterId` (keyset: every page costs what the first does). */
export async function readOrdersAfter(db: Db, afterId: string | undefined, limit: number): Promise<OrderSnapshot[]> {
  const query = db('orders').select('id', 'status', 'updated_at', 'lease_until').orderBy('id').limit(limit);
  if (afterId !== undefined) query.where('id', '>', afterId);
  const rows: { id: string; status: OrderStatus; updated_at: Date; lease_until: Date | null }[] = await query;
  return rows.map((r) => ({ id: r.id, status: r.status, updatedAt: r.updated_at, leaseUntil: r.lease_until }));
}

/** The items of the orders named, by order id. */
export async function readOrderItemsOf(
  db: Db,
  orderIds: readonly string[],
): Promise<Map<string, { productId: string; quantity: number }[]>> {
  const items = new Map<string, { productId: string; quantity: number }[]>();
  if (orderIds.length === 0) return items;
  const rows: { order_id: string; product_id: string; quantity: number }[] = await db('order_items')
    .select('order_id', 'product_id', 'quantity')
    .whereIn('order_id', orderIds)
    .orderBy(['order_id', 'product_id']);
  for (const row of rows)
    items.set(row.order_id, [...(items.get(row.order_id) ?? []), { productId: row.product_id, quantity: row.quantity }]);
  return items;
}

/** The recorded allocation lines of the orders named, by order id; orders that recorded none (not reserved yet, or reserved before locations) are absent. */
export async function readOrderAllocationsOf(db: Db, orderIds: readonly string[]): Promise<Map<string, AllocationRecord[]>> {
  if (orderIds.length === 0) return new Map();
  const rows: { id: string; allocations: AllocationRecord[] }[] = await db('orders')
    .select('id', 'allocations')
    .whereIn('id', orderIds)
    .whereNotNull('allocations');
  return new Map(rows.map((row) => [row.id, row.allocations]));
}
