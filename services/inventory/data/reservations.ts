import type { Knex } from 'knex';
import type { Db } from '#libs/db/types.js';
import type { Money } from '#libs/money/money.js';
import type { BatchMember, BatchVerdict, StoredReservation } from '../domain/reservation-types.js';
import type { AllocationLineRecord, ReservationItemRecord, ReservationStatus } from '../domain/types.js';
import { prepared } from '#libs/db/prepared.js';
import { isUniqueViolation, toMoney } from './rows.js';

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
  location_id: string;
  quantity: number;
  unit_price_minor: number;
  currency_code: string;
}

async function withItems(db: Db, rows: ReservationRow[]): Promise<StoredReservation[]> {
  if (rows.length === 0) return [];
  const items: ItemRow[] = await db('reservation_items')
    .whereIn(
      'order_id',
      rows.map((r) => r.order_id),
    )
    .orderBy(['order_id', 'product_id', 'location_id']);
  return rows.map((row) =>
    toStored(
      row,
      items.filter((i) => i.order_id === row.order_id),
    ),
  );
}

/** Item rows are allocation lines (sorted by product, then location): the items are their sums per product. */
function toStored(row: ReservationRow, lines: readonly ItemRow[]): StoredReservation {
  const items: ReservationItemRecord[] = [];
  for (const line of lines) {
    const last = items.at(-1);
    if (last?.productId === line.product_id) last.quantity += line.quantity;
    else items.push({ productId: line.product_id, quantity: line.quantity, unitPrice: toMoney(line.unit_price_minor, line.currency_code) });
  }
  return {
    orderId: row.order_id,
    status: row.status,
    requestHash: row.request_hash,
    items,
    allocations: lines.map((l) => ({ productId: l.product_id, locationId: l.location_id, quantity: l.quantity })),
    expiresAt: row.expires_at,
    releaseReason: row.release_reason ?? undefined,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

type RawAllocation = [string, string, number];

interface RawVerdict {
  ok?: [number, string][];
  alloc?: RawAllocation[];
  inactive?: string;
  lines?: { p: string; requested: number; available: number }[];
  replay?: StoredJson;
  same_as?: number;
  reused?: true;
  missing?: string;
  deleted?: string;
  short?: string;
  requested?: number;
  available?: number;
}

interface StoredJson {
  hash: string;
  status: ReservationStatus;
  expires_at: string;
  release_reason: string | null;
  created_at: string;
  updated_at: string;
  items: [string, number, number, string][];
  alloc: RawAllocation[];
}

const base64 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');

const toJson = (m: BatchMember) => ({
  order_id: m.orderId,
  hash: m.requestHash,
  now: m.now.toISOString(),
  expires_at: m.expiresAt.toISOString(),
  items: m.items.map((i) => ({ p: i.productId, q: i.quantity })),
  cands: m.candidates,
  split: m.split,
  pinned: m.pinned,
  event: {
    id: m.event.event.id,
    subject: m.event.event.subject,
    type: m.event.event.type,
    cid: m.event.event.correlationId ?? null,
    tc: m.event.event.traceContext ?? null,
    metadata: base64(m.event.metadata),
    reservation: base64(m.event.reservation),
  },
  low: m.stockLow,
});

/**
 * Reserves a batch of members in ONE autocommit statement (reserve_stock_batch,
 * sql/reserve_stock_batch.sql, which says who is granted what):
 * either the whole statement commits with a verdict per member, or it fails and
 * nothing of it was written. No session state, no named statement: safe through
 * PgBouncer in transaction pooling mode.
 */
export async function reserveBatch(db: Knex, members: readonly BatchMember[]): Promise<BatchVerdict[]> {
  const batch = JSON.stringify(members.map(toJson));
  const run = () => prepared(db.raw<{ rows: { verdicts: RawVerdict[] }[] }>('select reserve_stock_batch(?::jsonb) as verdicts', [batch]));
  // A concurrent claim of one of its order ids committed between the function's
  // look-up and its insert: run it again once, and the look-up sees it (a replay).
  const { rows } = await run().catch((error: unknown) => {
    if (isUniqueViolation(error)) return run();
    throw error;
  });
  const verdicts = rows[0]!.verdicts;
  return verdicts.map((raw, index) => toVerdict(raw, index, members, verdicts));
}

const prices = (ok: [number, string][]) => ok.map(([minor, currency]) => toMoney(minor, currency));
const allocations = (alloc: RawAllocation[]): AllocationLineRecord[] =>
  alloc.map(([productId, locationId, quantity]) => ({ productId, locationId, quantity }));

function toVerdict(raw: RawVerdict, index: number, members: readonly BatchMember[], all: readonly RawVerdict[]): BatchVerdict {
  if (raw.ok) return { kind: 'reserved', unitPrices: prices(raw.ok), allocations: allocations(raw.alloc!) };
  if (raw.replay) return { kind: 'replay', reservation: fromJson(members[index]!.orderId, raw.replay) };
  // An earlier member of this batch reserved the same order and items: both callers get that one.
  if (raw.same_as !== undefined) {
    const first = all[raw.same_as]!;
    return { kind: 'replay', reservation: reservedAs(members[raw.same_as]!, prices(first.ok!), allocations(first.alloc!)) };
  }
  if (raw.reused) return { kind: 'reused' };
  if (raw.missing) return { kind: 'missing', productId: raw.missing };
  if (raw.deleted) return { kind: 'deleted', productId: raw.deleted };
  if (raw.inactive) return { kind: 'inactive', locationId: raw.inactive };
  return {
    kind: 'short',
    productId: raw.short!,
    requested: raw.requested!,
    available: raw.available!,
    lines: raw.lines!.map((l) => ({ productId: l.p, requested: l.requested, available: l.available })),
  };
}

/** The reservation a granted member wrote, as findReservation would read it. */
export function reservedAs(
  member: BatchMember,
  unitPrices: readonly Money[],
  allocationLines: readonly AllocationLineRecord[],
): StoredReservation {
  return {
    orderId: member.orderId,
    status: 'RESERVED',
    requestHash: member.requestHash,
    items: member.items.map((i, n) => ({ productId: i.productId, quantity: i.quantity, unitPrice: unitPrices[n]! })),
    allocations: [...allocationLines],
    expiresAt: member.expiresAt,
    createdAt: member.now,
    updatedAt: member.now,
  };
}

function fromJson(orderId: string, row: StoredJson): StoredReservation {
  return {
    orderId,
    status: row.status,
    requestHash: row.hash,
    items: row.items.map(([productId, quantity, minor, currency]) => ({ productId, quantity, unitPrice: toMoney(minor, currency) })),
    allocations: allocations(row.alloc),
    expiresAt: new Date(row.expires_at),
    releaseReason: row.release_reason ?? undefined,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

export async function findReservation(db: Db, orderId: string): Promise<StoredReservation | undefined> {
  // The reservation and its items in one round trip (commit and release read it before their one statement).
  // Explicit columns: a prepared statement's cached plan must keep its result type across migrations.
  const { rows } = await prepared(
    db.raw<{ rows: (ReservationRow & { items: ItemRow[] })[] }>(
      `select r.order_id, r.status, r.request_hash, r.expires_at, r.release_reason, r.created_at, r.updated_at, coalesce((select json_agg(json_build_object(
                 'order_id', i.order_id, 'product_id', i.product_id, 'location_id', i.location_id, 'quantity', i.quantity,
                 'unit_price_minor', i.unit_price_minor, 'currency_code', i.currency_code) order by i.product_id, i.location_id)
               from reservation_items i where i.order_id = r.order_id), '[]'::json) as items
     from reservations r where r.order_id = ?`,
      [orderId],
    ),
  );
  const row = rows[0];
  return row ? toStored(row, row.items) : undefined;
}

/** Only its status, for a caller that needs no more (the order-event check). */
export async function findReservationStatus(db: Db, orderId: string): Promise<ReservationStatus | undefined> {
  const { rows } = await prepared(
    db.raw<{ rows: { status: ReservationStatus }[] }>('select status from reservations where order_id = ?', [orderId]),
  );
  return rows[0]?.status;
}

/**
 * Moves a live reservation's expiry (RESERVED, not yet expired) in one
 * statement; undefined when it is not live (the caller reads why).
 */
export async function extendIfLive(db: Db, orderId: string, expiresAt: Date, now: Date): Promise<StoredReservation | undefined> {
  const rows: ReservationRow[] = await db('reservations')
    .update({ expires_at: expiresAt, updated_at: now })
    .where({ order_id: orderId, status: 'RESERVED' })
    .andWhere('expires_at', '>', now)
    .returning('*');
  return rows.length === 1 ? (await withItems(db, rows))[0] : undefined;
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
