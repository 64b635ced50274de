import type { Money } from '#libs/money/money.js';
import type { StockRecord } from '../domain/types.js';

/** Row shapes shared by the data modules; pg returns int8 as number (libs/db/knex.ts). */
export interface StockRow {
  product_id: string;
  available: number;
  reserved: number;
  sold: number;
  low_stock_threshold: number;
  updated_at: Date;
}

export const toStock = (row: StockRow): StockRecord => ({
  productId: row.product_id,
  available: row.available,
  reserved: row.reserved,
  sold: row.sold,
  lowStockThreshold: row.low_stock_threshold,
  updatedAt: row.updated_at,
});

export const toMoney = (minorUnits: number, currencyCode: string): Money => ({ minorUnits, currencyCode });

/** Postgres: unique_violation. */
export const isUniqueViolation = (error: unknown): boolean => (error as { code?: string }).code === '23505';
/** Postgres: foreign_key_violation. */
export const isForeignKeyViolation = (error: unknown): boolean => (error as { code?: string }).code === '23503';
