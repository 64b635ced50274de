import type { Knex } from 'knex';
import type { ReservationItemRecord, ReservationRecord, ReservationStatus } from '../domain/types.js';
import { toMoney } from './rows.js';

type Db = Knex | Knex.Transaction;

interface ReservationRow {
  order_id: string;
  status: ReservationStatus;
  request_hash: string;
  expires_at: Date;
  release_reason: string | null;
  created_at: Date;
  updated_at: Date;
}

interface ItemRow {
  order_id: string;
  product_id: string;
  quantity: number;
  unit_price_minor: number;
  currency_code: string;
}

export interface StoredReservation extends ReservationRecord {
  requestHash: string;
}

async function withItems(db: Db, rows: ReservationRow[]): Promise<StoredReservation[]> {
  if (rows.length === 0) return [];
  const items: ItemRow[] = await db('reservation_items')
    .whereIn(
      'order_id',
      rows.map((r) => r.order_id),
    )
    .orderBy(['order_id', 'product_id']);
  return rows.map((row) => ({
    orderId: row.order_id,
    status: row.status,
    requestHash: row.request_hash,
    items: items
      .filter((i) => i.order_id === row.order_id)
      .map((i) => ({ productId: i.product_id, quantity: i.quantity, unitPrice: toMoney(i.unit_price_minor, i.currency_code) })),
    expiresAt: row.expires_at,
    releaseReason: row.release_reason ?? undefined,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  }));
}

/**
 * Claims the order id for a new reservation: INSERT … ON CONFLICT DO NOTHING in
 * the caller's transaction. A concurrent claim of the same id waits here until
 * the first commits (then gets false) or rolls back (then gets true).
 */
export async function claimReservation(
  trx: Knex.Transaction,
  claim: { orderId: string; requestHash: string; expiresAt: Date },
  now: Date,
): Promise<boolean> {
  const rows = await trx('reservations')
    .insert({
      order_id: claim.orderId,
      status: 'RESERVED',
      request_hash: claim.requestHash,
      expires_at: claim.expiresAt,
      created_at: now,
      updated_at: now,
    })
    .onConflict('order_id')
    .ignore()
    .returning('order_id');
  return rows.length === 1;
}

export async function insertReservationItems(
  trx: Knex.Transaction,
  orderId: string,
  items: readonly ReservationItemRecord[],
): Promise<void> {
  await trx('reservation_items').insert(
    items.map((item) => ({
      order_id: orderId,
      product_id: item.productId,
      quantity: item.quantity,
      unit_price_minor: item.unitPrice.minorUnits,
      currency_code: item.unitPrice.currencyCode,
    })),
  );
}

export async function findReservation(
  db: Db,
  orderId: string,
  options: { forUpdate?: boolean } = {},
): Promise<StoredReservation | undefined> {
  const query = db('reservations').where({ order_id: orderId });
  if (options.forUpdate) query.forUpdate();
  const row: ReservationRow | undefined = await query.first();
  return row ? (await withItems(db, [row]))[0] : undefined;
}

export async function setReservationStatus(
  trx: Knex.Transaction,
  orderId: string,
  change: { status: ReservationStatus; releaseReason?: string; expiresAt?: Date },
  now: Date,
): Promise<void> {
  const row: Record<string, unknown> = { status: change.status, updated_at: now };
  if (change.releaseReason !== undefined) row.release_reason = change.releaseReason;
  if (change.expiresAt !== undefined) row.expires_at = change.expiresAt;
  await trx('reservations').update(row).where({ order_id: orderId });
}

/**
 * Locks a batch of RESERVED reservations whose expiry has passed, skipping any
 * another sweeper (or a commit/release in flight) holds, oldest first.
 */
export async function claimExpired(trx: Knex.Transaction, now: Date, limit: number): Promise<StoredReservation[]> {
  const rows: ReservationRow[] = await trx('reservations')
    .where({ status: 'RESERVED' })
    .andWhere('expires_at', '<=', now)
    .orderBy('expires_at')
    .limit(limit)
    .forUpdate()
    .skipLocked();
  return withItems(trx, rows);
}

/** Sum of quantities held by RESERVED reservations, per product (for the invariant check). */
export async function reservedQuantities(db: Db): Promise<Map<string, number>> {
  const rows: { product_id: string; quantity: string | number }[] = await db('reservation_items as i')
    .join('reservations as r', 'r.order_id', 'i.order_id')
    .where('r.status', 'RESERVED')
    .groupBy('i.product_id')
    .select('i.product_id', db.raw('sum(i.quantity) as quantity'));
  return new Map(rows.map((r) => [r.product_id, Number(r.quantity)]));
}
