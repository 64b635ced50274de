import { notFound } from '#libs/errors/app-error.js';
import { findStockLevels } from '../../data/stock-levels.js';
import type { InventoryDeps } from '../deps.js';
import type { StockRecord } from '../types.js';

/** BatchGetStockLevels: every asked-for product's level, in the order asked; an unknown product is NOT_FOUND naming it. */
export async function batchGetStockLevels(deps: InventoryDeps, productIds: readonly string[]): Promise<StockRecord[]> {
  const levels = await findStockLevels(deps.db, productIds);
  return productIds.map((id) => {
    const stock = levels.get(id);
    if (!stock) throw notFound('product', id);
    return stock;
  });
}
