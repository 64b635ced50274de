import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { insertPlace } from './locations/stock-places.js';

/**
 * What the transfer tests share: locations inserted with SQL (the location RPCs
 * are another slice's), and stock and ledger read per (product, location).
 * The invariant per (product, location) is data/invariants.ts's.
 */

export interface TestLocationFields {
  code?: string;
  active?: boolean;
  deleted?: boolean;
}

/** A dark store inserted with SQL (stock-places.ts), returning its id; `deleted` marks it deleted (and inactive). */
export async function insertTestLocation(db: Knex, fields: TestLocationFields = {}): Promise<string> {
  const id = await insertPlace(db, { code: fields.code ?? `loc-${randomUUID().slice(0, 8)}`, active: fields.active ?? true });
  if (fields.deleted) await db('locations').update({ deleted_at: db.fn.now(), active: false }).where({ id });
  return id;
}

export { defaultPlace as defaultLocationId } from './locations/stock-places.js';

export interface StockAt {
  available: number;
  reserved: number;
  sold: number;
  inTransit: number;
  safetyStock: number;
}

/** The stock row of a product at a location (all zero when there is none). */
export async function stockAt(db: Knex, productId: string, locationId: string): Promise<StockAt> {
  const row = await db('stock_levels').where({ product_id: productId, location_id: locationId }).first();
  return {
    available: row?.available ?? 0,
    reserved: row?.reserved ?? 0,
    sold: row?.sold ?? 0,
    inTransit: row?.in_transit ?? 0,
    safetyStock: row?.safety_stock ?? 0,
  };
}

/** The same counters as the ledger sums them (what the stock row must equal). */
export async function ledgerAt(db: Knex, productId: string, locationId: string): Promise<Omit<StockAt, 'safetyStock'>> {
  const row = await db('stock_movements')
    .where({ product_id: productId, location_id: locationId })
    .first(
      db.raw('coalesce(sum(available_delta), 0)::int as available'),
      db.raw('coalesce(sum(reserved_delta), 0)::int as reserved'),
      db.raw('coalesce(sum(sold_delta), 0)::int as sold'),
      db.raw('coalesce(sum(in_transit_delta), 0)::int as in_transit'),
    );
  return { available: row.available, reserved: row.reserved, sold: row.sold, inTransit: row.in_transit };
}

/** Ledger rows of one transfer, as [kind, product, location, available_delta, in_transit_delta], sorted. */
export async function transferLedger(db: Knex, transferId: string): Promise<[string, string, string, number, number][]> {
  const rows: { kind: string; product_id: string; location_id: string; available_delta: number; in_transit_delta: number }[] = await db(
    'stock_movements',
  )
    .where({ reference: transferId })
    .orderBy(['kind', 'product_id', 'location_id'])
    .select('kind', 'product_id', 'location_id', 'available_delta', 'in_transit_delta');
  return rows.map((r) => [r.kind, r.product_id, r.location_id, r.available_delta, r.in_transit_delta]);
}

/** A transfer request with a fresh key. */
export function transferRequest(from: string, to: string, items: { productId: string; quantity: number }[], note = '') {
  return { fromLocationId: from, toLocationId: to, items, idempotencyKey: `transfer-${randomUUID()}`, note };
}
