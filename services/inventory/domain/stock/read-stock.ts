import { notFound } from '#libs/errors/app-error.js';
import { findStockLevels } from '../../data/stock-levels.js';
import type { InventoryDeps } from '../deps.js';
import type { DestinationRecord } from '../location-types.js';
import { rankLocations } from '../locations/rank-locations.js';
import type { StockRecord, StockScope } from '../types.js';
import { resolveLocation } from './stock-location.js';

/** Which stock BatchGetStockLevels reads: at one location, or totals (over what serves a destination, when given). */
export type StockLevelsQuery = { locationId: string } | { destination?: DestinationRecord };

/**
 * BatchGetStockLevels: every asked-for product's level, in the order asked; an
 * unknown product or location is NOT_FOUND naming it. Totals for a destination
 * count only the locations routing would use for it (docs/design.md §8), so they
 * say what a customer there can buy.
 */
export async function batchGetStockLevels(
  deps: InventoryDeps,
  productIds: readonly string[],
  query: StockLevelsQuery,
): Promise<StockRecord[]> {
  let scope: StockScope;
  if ('locationId' in query) scope = { locationId: (await resolveLocation(deps, query.locationId)).id };
  else if (query.destination) scope = { locationIds: rankLocations(await deps.locations.all(), query.destination).map((l) => l.id) };
  else scope = {};
  const levels = await findStockLevels(deps.db, productIds, scope);
  return productIds.map((id) => {
    const stock = levels.get(id);
    if (!stock) throw notFound('product', id);
    return stock;
  });
}
