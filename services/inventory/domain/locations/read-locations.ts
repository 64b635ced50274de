import { splitPage } from '#libs/db/keyset-page.js';
import { notFound } from '#libs/errors/app-error.js';
import { findLocation, listLocations } from '../../data/locations.js';
import type { InventoryDeps } from '../deps.js';
import type { LocationFilter, LocationRecord } from '../location-types.js';

/** The location reads: GetLocation (deleted ones too) and ListLocations (by code). */

export async function getLocation(deps: InventoryDeps, id: string): Promise<LocationRecord> {
  const location = await findLocation(deps.db, id);
  if (!location) throw notFound('location', id);
  return location;
}

export interface LocationPage {
  locations: LocationRecord[];
  /** Code to continue after, when there may be more. */
  nextAfterCode?: string;
}

/** One keyset page: one row more than the page says whether another follows. */
export async function listLocationPage(
  deps: InventoryDeps,
  filter: LocationFilter,
  afterCode: string | undefined,
  pageSize: number,
): Promise<LocationPage> {
  const rows = await listLocations(deps.db, filter, afterCode, pageSize + 1);
  const { page, nextKey } = splitPage(rows, pageSize, (location) => location.code);
  return { locations: page, nextAfterCode: nextKey };
}
