import type { Destination } from '#libs/contracts/larder/inventory/v1/locations.js';
import { invalid } from '#libs/errors/app-error.js';
import { latLng, postalCode } from '#libs/validation/geo.js';
import type { DestinationRecord } from '../domain/location-types.js';

/** A request's destination (ReserveStock, BatchGetStockLevels), or undefined when unset; it needs a postal code or coordinates. */
export function destinationOf(field: string, destination: Destination | undefined): DestinationRecord | undefined {
  if (!destination) return undefined;
  const code = postalCode(`${field}.postal_code`, destination.postalCode);
  const coordinates = latLng(`${field}.coordinates`, destination.coordinates);
  if (!code && !coordinates) throw invalid(field, 'needs a postal_code or coordinates');
  return { ...(code ? { postalCode: code } : {}), ...(coordinates ? { coordinates } : {}) };
}
