import { invalid } from '#libs/errors/app-error.js';
import { text } from './fields.js';

/**
 * Validators for the places of issue 21 (stock in many places): coordinates
 * (larder.common.v1.LatLng) and the postal code a destination is routed by,
 * as proto/larder/inventory/v1/locations.proto words them.
 */

/** Coordinates, when given: finite, latitude -90 to 90, longitude -180 to 180. Unset stays undefined. */
export function coordinates(
  field: string,
  value: { latitude?: number; longitude?: number } | undefined,
): { latitude: number; longitude: number } | undefined {
  if (!value) return undefined;
  return {
    latitude: degrees(`${field}.latitude`, value.latitude, 90),
    longitude: degrees(`${field}.longitude`, value.longitude, 180),
  };
}

function degrees(field: string, value: number | undefined, limit: number): number {
  const n = value ?? 0;
  if (!Number.isFinite(n)) throw invalid(field, 'must be a finite number of degrees');
  if (n < -limit || n > limit) throw invalid(field, `must be between -${limit} and ${limit}, got ${n}`);
  return n;
}

/** A postal code routing can match: 1-16 characters of A-Z, a-z, 0-9, space and '-' (trimmed). */
export function routablePostalCode(field: string, value: string | undefined): string {
  const code = text(field, value, { min: 1, max: 16 });
  if (!/^[A-Za-z0-9 -]+$/.test(code)) throw invalid(field, "may only contain letters, digits, spaces and '-'");
  return code;
}
