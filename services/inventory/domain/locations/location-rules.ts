import { failedPrecondition, invalid } from '#libs/errors/app-error.js';
import type { LocationRecord, NewLocation } from '../location-types.js';

/** Rules every location write keeps, whichever RPC makes it. */

/**
 * A delivery radius is measured from the location's coordinates, so a radius
 * needs them. `field` is the request field the caller changed (the radius, or
 * the coordinates an update removed).
 */
export function requireCoordinatesForRadius(location: Pick<NewLocation, 'coordinates' | 'deliveryArea'>, field: string): void {
  if (location.deliveryArea.radiusKm > 0 && !location.coordinates) {
    throw invalid(field, "a delivery radius needs the location's coordinates; set location.coordinates or a radius of 0");
  }
}

/** The default location serves every call that names no location: it is never deactivated or deleted. */
export function refuseDefaultLocation(location: LocationRecord, change: 'deactivated' | 'deleted'): void {
  if (!location.isDefault) return;
  throw failedPrecondition(`location ${location.id} ("${location.code}") is the default location and cannot be ${change}`, {
    reason: 'LOCATION_IS_DEFAULT',
    metadata: { id: location.id, code: location.code },
  });
}
