import type { Money } from '#libs/money/money.js';
import type { StockRecord } from '../domain/types.js';

/** Row shapes shared by the data modules; pg returns int8 as number (libs/db/knex.ts). */
export interface StockRow {
  product_id: string;
  /** null for a product's totals. */
  location_id: string | null;
  available: number;
  reserved: number;
  sold: number;
  safety_stock: number;
  available_to_sell: number;
  in_transit: number;
  low_stock_threshold: number;
  updated_at: Date;
}

/**
 * The columns of one location's stock row as StockRow, from stock_levels `s`
 * joined to its product `p` (for the threshold when the location has none).
 */
export const LOCATION_STOCK_COLUMNS = `s.product_id, s.location_id, s.available, s.reserved, s.sold, s.safety_stock,
  greatest(s.available - s.safety_stock, 0) as available_to_sell, s.in_transit,
  coalesce(s.low_stock_threshold, p.low_stock_threshold) as low_stock_threshold, s.updated_at`;

/**
 * A product's totals over its locations as StockRow columns, from a lateral
 * subquery on stock_levels `s` of product `p` (GROUP BY s.product_id). Available
 * to sell is summed per location: one location's safety stock does not hide
 * another's units.
 */
export const TOTAL_STOCK_COLUMNS = `s.product_id, null::uuid as location_id, sum(s.available)::bigint as available,
  sum(s.reserved)::bigint as reserved, sum(s.sold)::bigint as sold, sum(s.safety_stock)::bigint as safety_stock,
  sum(greatest(s.available - s.safety_stock, 0))::bigint as available_to_sell, sum(s.in_transit)::bigint as in_transit,
  max(s.updated_at) as updated_at`;

export const toStock = (row: StockRow): StockRecord => ({
  productId: row.product_id,
  locationId: row.location_id ?? '',
  available: row.available,
  reserved: row.reserved,
  sold: row.sold,
  safetyStock: row.safety_stock,
  availableToSell: row.available_to_sell,
  inTransit: row.in_transit,
  lowStockThreshold: row.low_stock_threshold,
  updatedAt: row.updated_at,
});

export const toMoney = (minorUnits: number, currencyCode: string): Money => ({ minorUnits, currencyCode });

/** Postgres: unique_violation. */
export const isUniqueViolation = (error: unknown): boolean => (error as { code?: string }).code === '23505';
/** Postgres: foreign_key_violation. */
export const isForeignKeyViolation = (error: unknown): boolean => (error as { code?: string }).code === '23503';
