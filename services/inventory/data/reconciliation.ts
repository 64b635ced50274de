import type { Db } from '#libs/db/types.js';
import type { ReservationStatus } from '../domain/types.js';

/** What the reconciler (scripts/reconcile) compares of a reservation with its order. */
export interface ReservationSnapshot {
  orderId: string;
  status: ReservationStatus;
  expiresAt: Date;
  updatedAt: Date;
}

/** One page of reservations in order-id order, after `afterOrderId` (keyset). */
export async function readReservationsAfter(db: Db, afterOrderId: string | undefined, limit: number): Promise<ReservationSnapshot[]> {
  const query = db('reservations').select('order_id', 'status', 'expires_at', 'updated_at').orderBy('order_id').limit(limit);
  if (afterOrderId !== undefined) query.where('order_id', '>', afterOrderId);
  const rows: { order_id: string; status: ReservationStatus; expires_at: Date; updated_at: Date }[] = await query;
  return rows.map((r) => ({ orderId: r.order_id, status: r.status, expiresAt: r.expires_at, updatedAt: r.updated_at }));
}

/** Stock adjustments by idempotency key (those that exist), with the units they added. */
export async function readAdjustmentsByKey(db: Db, keys: readonly string[]): Promise<Map<string, { productId: string; delta: number }>> {
  const found = new Map<string, { productId: string; delta: number }>();
  if (keys.length === 0) return found;
  const rows: { idempotency_key: string; product_id: string; delta: number }[] = await db('stock_adjustments')
    .select('idempotency_key', 'product_id', 'delta')
    .whereIn('idempotency_key', keys);
  for (const row of rows) found.set(row.idempotency_key, { productId: row.product_id, delta: row.delta });
  return found;
}

/** The allocation lines (reservation items: units per product and location) of the orders' reservations, by order id. */
export async function readReservationAllocationsOf(
  db: Db,
  orderIds: readonly string[],
): Promise<Map<string, { productId: string; locationId: string; quantity: number }[]>> {
  const lines = new Map<string, { productId: string; locationId: string; quantity: number }[]>();
  if (orderIds.length === 0) return lines;
  const rows: { order_id: string; product_id: string; location_id: string; quantity: number }[] = await db('reservation_items')
    .select('order_id', 'product_id', 'location_id', 'quantity')
    .whereIn('order_id', orderIds)
    .orderBy(['order_id', 'product_id', 'location_id']);
  for (const row of rows) {
    const line = { productId: row.product_id, locationId: row.location_id, quantity: row.quantity };
    lines.set(row.order_id, [...(lines.get(row.order_id) ?? []), line]);
  }
  return lines;
}
