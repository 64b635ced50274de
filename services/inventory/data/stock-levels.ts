import type { Knex } from 'knex';
import type { Db } from '#libs/db/types.js';
import type { Movement, StockChange, StockRecord } from '../domain/types.js';
import { toStock, type StockRow } from './rows.js';

// Every stock statement returns the row plus the product's threshold (a plain read of
// products, no lock), so callers can tell when stock ran low without another query.
const RETURNING = 'returning s.product_id, s.available, s.reserved, s.sold, s.updated_at, p.low_stock_threshold';

async function changeStock(
  trx: Knex.Transaction,
  sql: string,
  bindings: readonly Knex.RawBinding[],
  productId: string,
): Promise<StockChange> {
  const result = await trx.raw<{ rows: StockRow[] }>(`${sql} ${RETURNING}`, bindings);
  const row = result.rows[0];
  if (row) return { ok: true, stock: toStock(row) };
  const current = await trx('stock_levels').first('available').where({ product_id: productId });
  return { ok: false, available: current?.available };
}

export async function insertStockLevel(trx: Knex.Transaction, productId: string, available: number, now: Date): Promise<void> {
  await trx('stock_levels').insert({ product_id: productId, available, updated_at: now });
}

// Reserving is not here: reserve_stock_batch (sql/reserve_stock_batch.sql, called by reservations.ts
// reserveBatch) takes a batch's stock rows and moves them with one conditional UPDATE each.

/** Restock (+) or write-off (−) of available units, never below zero. */
export function adjustAvailable(trx: Knex.Transaction, productId: string, delta: number, now: Date): Promise<StockChange> {
  return changeStock(
    trx,
    `update stock_levels s set available = s.available + ?, updated_at = ?
       from products p where s.product_id = ? and p.id = s.product_id and s.available + ? >= 0`,
    [delta, now, productId, delta],
    productId,
  );
}

/** Stock with thresholds for the given products (deleted ones included), keyed by product id. */
export async function findStockLevels(db: Db, productIds: readonly string[]): Promise<Map<string, StockRecord>> {
  const rows: StockRow[] = await db('stock_levels as s')
    .join('products as p', 'p.id', 's.product_id')
    .whereIn('s.product_id', productIds)
    .select('s.product_id', 's.available', 's.reserved', 's.sold', 's.updated_at', 'p.low_stock_threshold');
  return new Map(rows.map((row) => [row.product_id, toStock(row)]));
}

/** Appends ledger rows; called in the same transaction as the stock change they describe. */
export async function recordMovements(trx: Knex.Transaction, movements: readonly Movement[], now: Date): Promise<void> {
  if (movements.length === 0) return;
  await trx('stock_movements').insert(
    movements.map((m) => ({
      product_id: m.productId,
      kind: m.kind,
      available_delta: m.availableDelta,
      reserved_delta: m.reservedDelta,
      sold_delta: m.soldDelta,
      in_transit_delta: m.inTransitDelta ?? 0,
      // A row without one takes the column's default (the default location).
      ...(m.locationId ? { location_id: m.locationId } : {}),
      reference: m.reference ?? null,
      created_at: now,
    })),
  );
}

/**
 * Live products at or below their low-stock threshold (the rule of isLowStock in
 * contract/to-proto.ts, which decides when StockLow is published): the gauge the
 * low-stock alert watches. One scan of stock_levels joined to products per scrape.
 */
export async function countLowStockProducts(db: Db): Promise<number> {
  const row = await db('stock_levels as s')
    .join('products as p', 'p.id', 's.product_id')
    .whereNull('p.deleted_at')
    .where('p.low_stock_threshold', '>', 0)
    .whereRaw('s.available <= p.low_stock_threshold')
    .count<{ count: string | number }[]>('* as count')
    .first();
  return Number(row?.count ?? 0);
}
