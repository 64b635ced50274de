import type { Db } from '#libs/db/types.js';
import type { RoutingLocation } from '../domain/location-types.js';

interface Row {
  id: string;
  code: string;
  priority: number;
  active: boolean;
  deleted: boolean;
  is_default: boolean;
  delivery: boolean;
  pickup: boolean;
  latitude: number | null;
  longitude: number | null;
  postal_code_prefixes: string[];
  delivery_radius_km: number;
}

/** Every location, deleted ones included (a pinned one must be told apart from an unknown id), as routing sees it. */
export async function readRoutingLocations(db: Db): Promise<RoutingLocation[]> {
  const rows: Row[] = await db('locations').select(
    'id',
    'code',
    'priority',
    'active',
    db.raw('deleted_at is not null as deleted'),
    'is_default',
    'delivery',
    'pickup',
    'latitude',
    'longitude',
    'postal_code_prefixes',
    'delivery_radius_km',
  );
  return rows.map((row) => ({
    id: row.id,
    code: row.code,
    priority: row.priority,
    active: row.active,
    deleted: row.deleted,
    isDefault: row.is_default,
    delivery: row.delivery,
    pickup: row.pickup,
    coordinates: row.latitude === null || row.longitude === null ? undefined : { latitude: row.latitude, longitude: row.longitude },
    postalCodePrefixes: row.postal_code_prefixes,
    radiusKm: row.delivery_radius_km,
  }));
}

/** The location's row, shared-locked for a stock change there (a concurrent DeleteLocation waits, or this waits for it). */
export async function lockLocationForStock(
  trx: Db,
  locationId: string,
): Promise<{ id: string; active: boolean; deleted: boolean } | undefined> {
  const row = await trx('locations')
    .first('id', 'active', trx.raw('deleted_at is not null as deleted'))
    .where({ id: locationId })
    .forShare();
  return row as { id: string; active: boolean; deleted: boolean } | undefined;
}
