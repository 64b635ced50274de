import type { Knex } from 'knex';
import { outboxRow, type OutboxEvent } from '../../../libs/events/outbox.js';
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

export interface NewReservation {
  orderId: string;
  requestHash: string;
  expiresAt: Date;
  items: readonly ReservationItemRecord[];
  /** Its inventory.reservation.reserved event. */
  event: OutboxEvent;
}

/**
 * Claims the order id and writes the reservation, its items, its RESERVE ledger
 * rows and its event — in ONE statement (data-modifying CTEs, all conditional on
 * the claim), so the reservation transaction costs few round trips before it
 * takes the hot stock rows. INSERT … ON CONFLICT DO NOTHING: a concurrent claim
 * of the same id waits until the first commits (then gets false) or rolls back
 * (then gets true). Returns whether this call claimed it.
 */
export async function insertReservation(trx: Knex.Transaction, reservation: NewReservation, now: Date): Promise<boolean> {
  const items = JSON.stringify(
    reservation.items.map((i) => ({
      product_id: i.productId,
      quantity: i.quantity,
      unit_price_minor: i.unitPrice.minorUnits,
      currency_code: i.unitPrice.currencyCode,
    })),
  );
  const event = outboxRow(reservation.event);
  const { rows } = await trx.raw<{ rows: { claimed: number }[] }>(
    `with claim as (
       insert into reservations (order_id, status, request_hash, expires_at, created_at, updated_at)
       values (?, 'RESERVED', ?, ?, ?, ?)
       on conflict (order_id) do nothing
       returning order_id
     ), lines as (
       select * from jsonb_to_recordset(?::jsonb) as l(product_id uuid, quantity int, unit_price_minor bigint, currency_code text)
     ), items as (
       insert into reservation_items (order_id, product_id, quantity, unit_price_minor, currency_code)
       select claim.order_id, l.product_id, l.quantity, l.unit_price_minor, l.currency_code from claim, lines l
     ), movements as (
       insert into stock_movements (product_id, kind, available_delta, reserved_delta, sold_delta, reference, created_at)
       select l.product_id, 'RESERVE', -l.quantity, l.quantity, 0, claim.order_id, ? from claim, lines l
     ), events as (
       insert into outbox (id, subject, event_type, payload, correlation_id)
       select ?, ?, ?, ?, ? from claim
     )
     select count(*)::int as claimed from claim`,
    [
      reservation.orderId,
      reservation.requestHash,
      reservation.expiresAt,
      now,
      now,
      items,
      now,
      event.id,
      event.subject,
      event.event_type,
      event.payload,
      event.correlation_id,
    ],
  );
  return rows[0]!.claimed === 1;
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
