import type { Knex } from 'knex';
import type { Db } from '#libs/db/types.js';
import type { Movement, StockChange, StockRecord, StockScope, StockSettingsPatch } from '../domain/types.js';
import { LOCATION_STOCK_COLUMNS, toStock, type StockRow } from './rows.js';

// Every stock statement returns the row as StockRow (with the threshold in force,
// a plain read of products, no lock), so callers can tell when stock ran low
// without another query.
const RETURNING = `returning ${LOCATION_STOCK_COLUMNS}`;

/** Locks one location's stock row of a product (FOR UPDATE); undefined when it has none. */
export async function lockStockRow(trx: Knex.Transaction, productId: string, locationId: string): Promise<StockRecord | undefined> {
  const { rows } = await trx.raw<{ rows: StockRow[] }>(
    `select ${LOCATION_STOCK_COLUMNS} from stock_levels s join products p on p.id = s.product_id
      where s.product_id = ? and s.location_id = ? for update of s`,
    [productId, locationId],
  );
  return rows[0] ? toStock(rows[0]) : undefined;
}

/**
 * A product's stock row at a location, created empty if it has none (a first
 * restock there, a transfer's receiver). Needs the (product, location) key of
 * migration 009.
 */
export async function ensureStockRow(trx: Knex.Transaction, productId: string, locationId: string, now: Date): Promise<void> {
  await trx.raw(
    `insert into stock_levels (product_id, location_id, available, updated_at) values (?, ?, 0, ?)
     on conflict (product_id, location_id) do nothing`,
    [productId, locationId, now],
  );
}

export async function insertStockLevel(
  trx: Knex.Transaction,
  productId: string,
  locationId: string,
  available: number,
  now: Date,
): Promise<void> {
  await trx('stock_levels').insert({ product_id: productId, location_id: locationId, available, updated_at: now });
}

// Reserving is not here: reserve_stock_batch (sql/reserve_stock_batch.sql, called by reservations.ts
// reserveBatch) takes a batch's stock rows and moves them with one conditional UPDATE each.

/** Restock (+) or write-off (−) of available units at one location, never below zero. */
export async function adjustAvailable(
  trx: Knex.Transaction,
  productId: string,
  locationId: string,
  delta: number,
  now: Date,
): Promise<StockChange> {
  const { rows } = await trx.raw<{ rows: StockRow[] }>(
    `update stock_levels s set available = s.available + ?, updated_at = ?
       from products p where s.product_id = ? and s.location_id = ? and p.id = s.product_id and s.available + ? >= 0 ${RETURNING}`,
    [delta, now, productId, locationId, delta],
  );
  if (rows[0]) return { ok: true, stock: toStock(rows[0]) };
  const current = await trx('stock_levels').first('available').where({ product_id: productId, location_id: locationId });
  return { ok: false, available: current?.available };
}

/** Sets a location's safety stock and threshold override for a product (its row locked by the caller). */
export async function writeStockSettings(
  trx: Knex.Transaction,
  productId: string,
  locationId: string,
  patch: StockSettingsPatch,
  now: Date,
): Promise<StockRecord> {
  const set: string[] = ['updated_at = ?'];
  const bindings: Knex.RawBinding[] = [now];
  if (patch.safetyStock !== undefined) {
    set.push('safety_stock = ?');
    bindings.push(patch.safetyStock);
  }
  if (patch.lowStockThreshold !== undefined) {
    set.push('low_stock_threshold = ?');
    bindings.push(patch.lowStockThreshold);
  }
  const { rows } = await trx.raw<{ rows: StockRow[] }>(
    `update stock_levels s set ${set.join(', ')} from products p
      where s.product_id = ? and s.location_id = ? and p.id = s.product_id ${RETURNING}`,
    [...bindings, productId, locationId],
  );
  return toStock(rows[0]!);
}

/**
 * Each product's stock for BatchGetStockLevels (deleted products included),
 * keyed by product id: at one location (a product with no row there has none
 * yet: zeros), or its totals over the locations of the scope with each
 * location's stock in `locations` (by location code) unless `breakdown` is
 * false. Products that do not exist are absent.
 */
export async function findStockLevels(
  db: Db,
  productIds: readonly string[],
  scope: StockScope,
  { breakdown = true }: { breakdown?: boolean } = {},
): Promise<Map<string, StockRecord>> {
  const { rows } = await db.raw<{ rows: (StockRow & { code: string | null; product_threshold: number })[] }>(
    `select p.id as product_id, p.low_stock_threshold as product_threshold, l.code, ${LOCATION_STOCK_COLUMNS.replace('s.product_id, ', '')}
       from products p
       left join stock_levels s on s.product_id = p.id ${'locationId' in scope ? 'and s.location_id = ?' : scope.locationIds ? 'and s.location_id = any(?::uuid[])' : ''}
       left join locations l on l.id = s.location_id
      where p.id = any(?::uuid[])
      order by p.id, l.code`,
    [...('locationId' in scope ? [scope.locationId] : scope.locationIds ? [scope.locationIds] : []), productIds] as Knex.RawBinding[],
  );
  const levels = new Map<string, StockRecord>();
  for (const row of rows) {
    const here: StockRecord | undefined = row.location_id ? toStock(row) : undefined;
    if ('locationId' in scope) {
      levels.set(row.product_id, here ?? emptyStock(row.product_id, scope.locationId, row.product_threshold));
      continue;
    }
    let total = levels.get(row.product_id);
    if (!total)
      total = breakdown
        ? { ...emptyStock(row.product_id, '', row.product_threshold), locations: [] }
        : emptyStock(row.product_id, '', row.product_threshold);
    if (here) addTo(total, here);
    levels.set(row.product_id, total);
  }
  return levels;
}

/**
 * Each product's totals over all its locations, as GetProduct and ListProducts
 * answer them (no per-location breakdown), keyed by product id: what the catalog
 * cache joins to a cached product.
 */
export function findStockTotals(db: Db, productIds: readonly string[]): Promise<Map<string, StockRecord>> {
  return findStockLevels(db, productIds, {}, { breakdown: false });
}

const emptyStock = (productId: string, locationId: string, threshold: number): StockRecord => ({
  productId,
  locationId,
  available: 0,
  reserved: 0,
  sold: 0,
  safetyStock: 0,
  availableToSell: 0,
  inTransit: 0,
  lowStockThreshold: threshold,
  updatedAt: new Date(0),
});

function addTo(total: StockRecord, here: StockRecord): void {
  total.available += here.available;
  total.reserved += here.reserved;
  total.sold += here.sold;
  total.safetyStock += here.safetyStock;
  total.availableToSell += here.availableToSell;
  total.inTransit += here.inTransit;
  if (here.updatedAt > total.updatedAt) total.updatedAt = here.updatedAt;
  total.locations?.push(here);
}

/** Appends ledger rows; called in the same transaction as the stock change they describe. */
export async function recordMovements(trx: Knex.Transaction, movements: readonly Movement[], now: Date): Promise<void> {
  if (movements.length === 0) return;
  await trx('stock_movements').insert(
    movements.map((m) => ({
      product_id: m.productId,
      location_id: m.locationId,
      kind: m.kind,
      available_delta: m.availableDelta,
      reserved_delta: m.reservedDelta,
      sold_delta: m.soldDelta,
      in_transit_delta: m.inTransitDelta ?? 0,
      reference: m.reference ?? null,
      created_at: now,
    })),
  );
}

/**
 * Low stock per location: how many (live product, active location) pairs are at
 * or below the threshold in force there (the rule of isLowStock in
 * contract/to-proto.ts, which decides when StockLow is published), by location
 * code: the gauge the low-stock alert watches. One scan of stock_levels per scrape.
 */
export async function countLowStockByLocation(db: Db): Promise<Map<string, number>> {
  const rows: { code: string; count: string | number }[] = await db('stock_levels as s')
    .join('products as p', 'p.id', 's.product_id')
    .join('locations as l', 'l.id', 's.location_id')
    .whereNull('p.deleted_at')
    .whereNull('l.deleted_at')
    .whereRaw('coalesce(s.low_stock_threshold, p.low_stock_threshold) > 0')
    .whereRaw('greatest(s.available - s.safety_stock, 0) <= coalesce(s.low_stock_threshold, p.low_stock_threshold)')
    .groupBy('l.code')
    .select('l.code')
    .count('* as count');
  return new Map(rows.map((r) => [r.code, Number(r.count)]));
}
