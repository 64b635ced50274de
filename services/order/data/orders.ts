import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Db } from '#libs/db/types.js';
import type { Money } from '#libs/money/money.js';
import type { ClaimedOrder, ItemPrice, OrderPatch, WriteGuard } from '../domain/order-write-types.js';
import type { AllocationRecord, OrderItemRecord, OrderRecord, OrderStatus, PaymentStatus, ShippingAddress } from '../domain/types.js';
import { allocationsColumn, fulfilmentOf, type StoredFulfilment } from './fulfilment-columns.js';

interface OrderRow {
  id: string;
  customer_id: string;
  status: OrderStatus;
  idempotency_key: string;
  request_hash: string;
  payment_token: string;
  correlation_id: string | null;
  payment_status: PaymentStatus;
  shipping_address: ShippingAddress | null;
  fulfilment: StoredFulfilment | null;
  allocations: AllocationRecord[] | null;
  total_minor: number | null;
  currency_code: string | null;
  attempts: number;
  payment_attempts: number;
  last_error: string | null;
  cancel_reason: string | null;
  cancel_requested: boolean;
  reservation_expired: boolean;
  next_attempt_at: Date | null;
  lease_until: Date | null;
  lease_token: string | null;
  version: number;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
}

interface ItemRow {
  order_id: string;
  product_id: string;
  quantity: number;
  unit_price_minor: number | null;
  currency_code: string | null;
}

const money = (minor: number | null, currency: string | null): Money | undefined =>
  minor === null || currency === null ? undefined : { minorUnits: minor, currencyCode: currency };

async function withItems(db: Db, rows: OrderRow[]): Promise<OrderRecord[]> {
  if (rows.length === 0) return [];
  const items: ItemRow[] = await db('order_items')
    .whereIn(
      'order_id',
      rows.map((r) => r.id),
    )
    .orderBy(['order_id', 'product_id']);
  const byOrder = new Map<string, OrderItemRecord[]>();
  for (const item of items) {
    const list = byOrder.get(item.order_id) ?? [];
    list.push({ productId: item.product_id, quantity: item.quantity, unitPrice: money(item.unit_price_minor, item.currency_code) });
    byOrder.set(item.order_id, list);
  }
  return rows.map((row) => ({
    id: row.id,
    customerId: row.customer_id,
    status: row.status,
    items: byOrder.get(row.id) ?? [],
    total: money(row.total_minor, row.currency_code),
    paymentToken: row.payment_token,
    correlationId: row.correlation_id ?? undefined,
    paymentStatus: row.payment_status,
    shippingAddress: row.shipping_address ?? undefined,
    fulfilment: fulfilmentOf(row.fulfilment, row.shipping_address),
    allocations: row.allocations ?? undefined,
    attempts: row.attempts,
    paymentAttempts: row.payment_attempts,
    lastError: row.last_error ?? undefined,
    cancelReason: row.cancel_reason ?? undefined,
    cancelRequested: row.cancel_requested,
    reservationExpired: row.reservation_expired,
    idempotencyKey: row.idempotency_key,
    requestHash: row.request_hash,
    nextAttemptAt: row.next_attempt_at ?? undefined,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    deletedAt: row.deleted_at ?? undefined,
  }));
}

export async function findOrderByKey(db: Db, customerId: string, idempotencyKey: string): Promise<OrderRecord | undefined> {
  const row = await db('orders').where({ customer_id: customerId, idempotency_key: idempotencyKey }).first();
  return row ? (await withItems(db, [row]))[0] : undefined;
}

export async function insertOrderItems(
  trx: Knex.Transaction,
  orderId: string,
  items: readonly { productId: string; quantity: number }[],
): Promise<void> {
  await trx('order_items').insert(items.map((i) => ({ order_id: orderId, product_id: i.productId, quantity: i.quantity })));
}

/** Records the unit prices inventory captured (the total goes with the order's patch). */
async function setItemPrices(trx: Knex.Transaction, orderId: string, items: readonly ItemPrice[]): Promise<void> {
  for (const item of items) {
    await trx('order_items')
      .update({ unit_price_minor: item.unitPrice.minorUnits, currency_code: item.unitPrice.currencyCode })
      .where({ order_id: orderId, product_id: item.productId });
  }
}

export async function findOrder(
  db: Db,
  id: string,
  options: { includeDeleted?: boolean; forUpdate?: boolean } = {},
): Promise<OrderRecord | undefined> {
  const query = db('orders').where({ id });
  if (!options.includeDeleted) query.whereNull('deleted_at');
  if (options.forUpdate) query.forUpdate();
  const row: OrderRow | undefined = await query.first();
  return row ? (await withItems(db, [row]))[0] : undefined;
}

/** The order if this lease still holds it (a step reading its order again after a missed write). */
export async function findLeasedOrder(db: Db, id: string, leaseToken: string): Promise<OrderRecord | undefined> {
  const row: OrderRow | undefined = await db('orders').where({ id, lease_token: leaseToken }).first();
  return row ? (await withItems(db, [row]))[0] : undefined;
}

/** Newest first (ids are UUIDv7): one keyset page before `beforeId`. */
export async function listOrders(
  db: Db,
  filter: { customerId: string; status?: OrderStatus; includeDeleted: boolean },
  beforeId: string | undefined,
  limit: number,
): Promise<OrderRecord[]> {
  const query = db('orders').where({ customer_id: filter.customerId }).orderBy('id', 'desc').limit(limit);
  if (beforeId) query.where('id', '<', beforeId);
  if (filter.status) query.where({ status: filter.status });
  if (!filter.includeDeleted) query.whereNull('deleted_at');
  return withItems(db, await query);
}

/** Statuses the saga still works on. */
const ACTIVE = ['PENDING', 'AWAITING_STOCK', 'RESERVED', 'CONFIRMED'];

/**
 * Claims up to `limit` due orders for this worker: due means next_attempt_at has
 * passed and no other worker's lease is live. SKIP LOCKED lets replicas claim
 * side by side; the lease (not a held transaction) keeps the claim while the
 * step talks to inventory and the gateway, and lapses if the worker dies.
 */
export async function claimDueOrders(db: Knex, now: Date, leaseMs: number, limit: number): Promise<ClaimedOrder[]> {
  const leaseToken = randomUUID();
  const rows: OrderRow[] = await db('orders')
    .update({ lease_until: new Date(now.getTime() + leaseMs), lease_token: leaseToken, claimed_at: now })
    .whereIn(
      'id',
      db('orders')
        .select('id')
        .where((due) =>
          due
            .where('next_attempt_at', '<=', now)
            // A cancellation or an expired reservation flagged since the last claim needs
            // handling now, whatever backoff the step in flight wrote; once claimed, the
            // order follows its backoff again (no hot loop while inventory is down).
            .orWhere((flagged) =>
              flagged
                .whereNotNull('flagged_at')
                .andWhere((q) => q.whereNull('claimed_at').orWhereRaw('flagged_at > claimed_at'))
                .whereIn('status', ACTIVE),
            ),
        )
        .andWhere((q) => q.whereNull('lease_until').orWhere('lease_until', '<', now))
        .orderBy('next_attempt_at')
        .limit(limit)
        .forUpdate()
        .skipLocked(),
    )
    .returning('*');
  return (await withItems(db, rows)).map((order) => ({ order, leaseToken }));
}

/** Claims one order now (inline steps: right after checkout, CancelOrder); undefined if another worker holds it. */
export async function claimOrder(db: Knex, id: string, now: Date, leaseMs: number): Promise<ClaimedOrder | undefined> {
  const leaseToken = randomUUID();
  const rows: OrderRow[] = await db('orders')
    .update({ lease_until: new Date(now.getTime() + leaseMs), lease_token: leaseToken, claimed_at: now })
    .where({ id })
    .andWhere((q) => q.whereNull('lease_until').orWhere('lease_until', '<', now))
    .returning('*');
  const [order] = await withItems(db, rows);
  return order ? { order, leaseToken } : undefined;
}

/** The columns a patch sets (and the version bump every change makes). */
export function patchColumns(db: Db, patch: OrderPatch, now: Date): Record<string, unknown> {
  const row: Record<string, unknown> = { updated_at: now, version: db.raw('version + 1') };
  if (patch.status !== undefined) row.status = patch.status;
  if (patch.paymentStatus !== undefined) row.payment_status = patch.paymentStatus;
  if (patch.attempts !== undefined) row.attempts = patch.attempts;
  if (patch.paymentAttempts !== undefined) row.payment_attempts = patch.paymentAttempts;
  if (patch.lastError !== undefined) row.last_error = patch.lastError;
  if (patch.cancelReason !== undefined) row.cancel_reason = patch.cancelReason;
  if (patch.cancelRequested !== undefined) row.cancel_requested = patch.cancelRequested;
  if (patch.flaggedAt !== undefined) row.flagged_at = patch.flaggedAt;
  if (patch.reservationExpired !== undefined) row.reservation_expired = patch.reservationExpired;
  if (patch.nextAttemptAt !== undefined) row.next_attempt_at = patch.nextAttemptAt;
  if (patch.shippingAddress !== undefined) row.shipping_address = patch.shippingAddress ? JSON.stringify(patch.shippingAddress) : null;
  if (patch.allocations !== undefined) row.allocations = allocationsColumn(patch.allocations);
  if (patch.deletedAt !== undefined) row.deleted_at = patch.deletedAt;
  if (patch.total !== undefined) {
    row.total_minor = patch.total.minorUnits;
    row.currency_code = patch.total.currencyCode;
  }
  if (patch.releaseLease) {
    row.lease_until = null;
    row.lease_token = null;
  }
  return row;
}

/** Applies a patch if the guard still holds; false means someone else owns the order now. */
export async function writeOrderPatch(
  trx: Knex.Transaction,
  id: string,
  guard: WriteGuard,
  patch: OrderPatch,
  now: Date,
): Promise<boolean> {
  const query = trx('orders')
    .update(patchColumns(trx, patch, now))
    .where({ id });
  if (guard !== 'none' && 'leaseToken' in guard) query.andWhere({ lease_token: guard.leaseToken });
  if (guard !== 'none' && 'version' in guard) query.andWhere({ version: guard.version });
  if ((await query) !== 1) return false;
  if (patch.itemPrices) await setItemPrices(trx, id, patch.itemPrices);
  return true;
}

/** Makes AWAITING_STOCK orders holding any of these products due now (a restock happened). */
export async function wakeOrdersWaitingFor(trx: Db, productIds: readonly string[], now: Date): Promise<number> {
  if (productIds.length === 0) return 0;
  return trx('orders')
    .update({ next_attempt_at: now })
    .where({ status: 'AWAITING_STOCK' })
    .whereIn('id', trx('order_items').select('order_id').whereIn('product_id', productIds));
}

/** Inventory expired the order's reservation: flag it and make the order due, if it still waits on it. */
export async function flagReservationExpired(trx: Db, orderId: string, now: Date): Promise<boolean> {
  const changed = await trx('orders')
    .update({ reservation_expired: true, next_attempt_at: now, flagged_at: now })
    .where({ id: orderId, status: 'RESERVED' });
  return changed === 1;
}
