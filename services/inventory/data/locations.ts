import type { Db, Tx } from '#libs/db/types.js';
import type { LocationFilter, LocationKind, LocationPatch, LocationRecord, LocationUse, NewLocation } from '../domain/location-types.js';

interface LocationRow {
  id: string;
  code: string;
  name: string;
  kind: LocationKind;
  address_line1: string;
  address_line2: string;
  city: string;
  postal_code: string;
  country_code: string;
  latitude: number | null;
  longitude: number | null;
  delivery: boolean;
  pickup: boolean;
  postal_code_prefixes: string[];
  delivery_radius_km: number;
  priority: number;
  active: boolean;
  is_default: boolean;
  version: number;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
}

const toLocation = (row: LocationRow): LocationRecord => ({
  id: row.id,
  code: row.code,
  name: row.name,
  kind: row.kind,
  address: {
    line1: row.address_line1,
    line2: row.address_line2,
    city: row.city,
    postalCode: row.postal_code,
    countryCode: row.country_code,
  },
  coordinates: row.latitude !== null && row.longitude !== null ? { latitude: row.latitude, longitude: row.longitude } : undefined,
  delivery: row.delivery,
  pickup: row.pickup,
  deliveryArea: { postalCodePrefixes: row.postal_code_prefixes, radiusKm: row.delivery_radius_km },
  priority: row.priority,
  active: row.active,
  isDefault: row.is_default,
  version: row.version,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  deletedAt: row.deleted_at ?? undefined,
});

/** The columns of a patch (or of a whole new location); absent fields write nothing. */
function columnsOf(patch: LocationPatch): Partial<LocationRow> {
  const row: Partial<LocationRow> = {};
  if (patch.name !== undefined) row.name = patch.name;
  if (patch.kind !== undefined) row.kind = patch.kind;
  if (patch.address !== undefined) {
    row.address_line1 = patch.address.line1;
    row.address_line2 = patch.address.line2;
    row.city = patch.address.city;
    row.postal_code = patch.address.postalCode;
    row.country_code = patch.address.countryCode;
  }
  if (patch.coordinates !== undefined) {
    row.latitude = patch.coordinates?.latitude ?? null;
    row.longitude = patch.coordinates?.longitude ?? null;
  }
  if (patch.delivery !== undefined) row.delivery = patch.delivery;
  if (patch.pickup !== undefined) row.pickup = patch.pickup;
  if (patch.deliveryArea !== undefined) {
    row.postal_code_prefixes = patch.deliveryArea.postalCodePrefixes;
    row.delivery_radius_km = patch.deliveryArea.radiusKm;
  }
  if (patch.priority !== undefined) row.priority = patch.priority;
  if (patch.active !== undefined) row.active = patch.active;
  return row;
}

/** Inserts the location; a taken code is PostgreSQL's unique violation (23505) on locations_code_unique. */
export async function insertLocation(trx: Db, location: NewLocation, now: Date): Promise<LocationRecord> {
  const [row] = await trx('locations')
    .insert({
      ...columnsOf({ ...location, coordinates: location.coordinates ?? null }),
      id: location.id,
      code: location.code,
      created_at: now,
      updated_at: now,
    })
    .returning('*');
  return toLocation(row);
}

/** The location with this id, deleted ones included; `forUpdate` locks its row until the transaction ends. */
export async function findLocation(db: Db, id: string, { forUpdate = false } = {}): Promise<LocationRecord | undefined> {
  const query = db('locations').where({ id });
  if (forUpdate) query.forUpdate();
  const row: LocationRow | undefined = await query.first();
  return row ? toLocation(row) : undefined;
}

/**
 * One keyset page by code (byte order, as routing breaks ties); `afterCode` excludes itself.
 * Locations are few (a chain's stores and warehouses): no index is needed for this order.
 */
export async function listLocations(
  db: Db,
  filter: LocationFilter,
  afterCode: string | undefined,
  limit: number,
): Promise<LocationRecord[]> {
  const query = db('locations').orderByRaw('code collate "C"').limit(limit);
  if (afterCode !== undefined) query.whereRaw('code collate "C" > ?', [afterCode]);
  if (!filter.includeDeleted) query.whereNull('deleted_at');
  return ((await query) as LocationRow[]).map(toLocation);
}

/** Applies a patch and bumps the version (the etag). */
export async function patchLocation(trx: Tx, id: string, patch: LocationPatch, now: Date): Promise<LocationRecord> {
  const [row] = await trx('locations')
    .update({ ...columnsOf(patch), updated_at: now, version: trx.raw('version + 1') })
    .where({ id })
    .returning('*');
  return toLocation(row);
}

/** Soft delete: the row stays (ledger, reservations and transfers name it), inactive, with its delete time. */
export async function markLocationDeleted(trx: Tx, id: string, now: Date): Promise<LocationRecord> {
  const [row] = await trx('locations')
    .update({ deleted_at: now, active: false, updated_at: now, version: trx.raw('version + 1') })
    .where({ id })
    .returning('*');
  return toLocation(row);
}

/**
 * What the location holds, for DeleteLocation, called with the location row
 * locked FOR UPDATE. Its stock rows are locked FOR UPDATE first, in product
 * order (the order reserve_stock_batch and settlement lock (product, location)
 * rows in, so no deadlock), so a writer already moving units there finishes
 * before the count, and one that comes later waits for the delete; writers that
 * add units at a location (new stock rows included) take the location row FOR
 * SHARE first (data/location-directory.ts, lockLocationForStock, through
 * domain/stock/stock-location.ts, holdLocationForStock), which the delete's FOR
 * UPDATE excludes.
 */
export async function lockAndCountLocationUse(trx: Tx, locationId: string): Promise<LocationUse> {
  const { rows } = await trx.raw<{ rows: { stock_rows: number }[] }>(
    `with locked as (
       select available, reserved, in_transit from stock_levels
        where location_id = ? order by product_id for update)
     select count(*) filter (where available > 0 or reserved > 0 or in_transit > 0)::int as stock_rows from locked`,
    [locationId],
  );
  const reservations = await trx('reservation_items as i')
    .join('reservations as r', 'r.order_id', 'i.order_id')
    .where('i.location_id', locationId)
    .where('r.status', 'RESERVED')
    .countDistinct<{ n: number }[]>('i.order_id as n')
    .first();
  const transfers = await trx('transfers')
    .where('status', 'IN_TRANSIT')
    .where((q) => q.where('from_location_id', locationId).orWhere('to_location_id', locationId))
    .count<{ n: number }[]>('* as n')
    .first();
  return {
    stockRows: Number(rows[0]?.stock_rows ?? 0),
    liveReservations: Number(reservations?.n ?? 0),
    transfersInTransit: Number(transfers?.n ?? 0),
  };
}
