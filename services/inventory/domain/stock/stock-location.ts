import { failedPrecondition, notFound } from '#libs/errors/app-error.js';
import type { Tx } from '#libs/db/types.js';
import { lockLocationForStock } from '../../data/location-directory.js';
import type { InventoryDeps } from '../deps.js';
import type { RoutingLocation } from '../location-types.js';

/** The location a stock call names, or the default one when it names none; NOT_FOUND for an unknown id. */
export async function resolveLocation(deps: InventoryDeps, locationId: string | undefined): Promise<RoutingLocation> {
  if (!locationId) return deps.locations.defaultLocation();
  const location = await deps.locations.find(locationId);
  if (!location) throw notFound('location', locationId);
  return location;
}

/**
 * Holds the location for a stock change there (FOR SHARE: a concurrent
 * DeleteLocation waits for this transaction, or this one sees it deleted) and
 * refuses a deleted one. An inactive location still takes adjustments: it only
 * stops taking reservations (docs/design.md §8).
 */
export async function holdLocationForStock(trx: Tx, locationId: string): Promise<void> {
  const location = await lockLocationForStock(trx, locationId);
  if (!location) throw notFound('location', locationId);
  if (location.deleted) {
    throw failedPrecondition(`location ${locationId} is deleted`, {
      reason: 'LOCATION_INACTIVE',
      field: 'location_id',
      metadata: { location_id: locationId },
    });
  }
}
