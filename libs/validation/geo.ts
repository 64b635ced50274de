import { invalid } from '#libs/errors/app-error.js';

/** A point as the contracts carry it (larder.common.v1.LatLng). */
export interface LatLngInput {
  latitude: number;
  longitude: number;
}

/**
 * Coordinates, or undefined when the message is unset: latitude −90…90 and
 * longitude −180…180, finite (a NaN or ±Infinity double decodes fine from the
 * wire, and would poison every distance it touches).
 */
export function latLng(field: string, value: LatLngInput | undefined): LatLngInput | undefined {
  if (value === undefined) return undefined;
  const { latitude, longitude } = value;
  if (!Number.isFinite(latitude) || latitude < -90 || latitude > 90) throw invalid(`${field}.latitude`, 'must be between -90 and 90');
  if (!Number.isFinite(longitude) || longitude < -180 || longitude > 180) {
    throw invalid(`${field}.longitude`, 'must be between -180 and 180');
  }
  return { latitude, longitude };
}

const POSTAL_CODE = /^[A-Za-z0-9][A-Za-z0-9 -]{0,15}$/;

/** A postal code (or a prefix of one): 1-16 characters of A-Z, a-z, 0-9, space and '-', starting with a letter or digit. */
export function postalCode(field: string, value: string | undefined, { required = false } = {}): string | undefined {
  if (!value) {
    if (required) throw invalid(field, 'is required');
    return undefined;
  }
  if (!POSTAL_CODE.test(value)) throw invalid(field, "must be 1-16 characters of A-Z, a-z, 0-9, space and '-'");
  return value;
}
