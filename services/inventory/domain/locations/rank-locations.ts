import type { Destination, LatLng, LocationRecord } from '../location-types.js';

/**
 * Routing's order of locations (docs/locations.md, "How routing ranks
 * locations"): which locations serve a destination, and in which order
 * ReserveStock tries them. Pure: the caller reads the locations, this decides.
 */

/** The fields routing reads; a LocationRecord has them all. */
export type RoutableLocation = Pick<
  LocationRecord,
  'code' | 'coordinates' | 'delivery' | 'deliveryArea' | 'priority' | 'active' | 'deletedAt'
>;

/** Mean earth radius (IUGG), km. */
const EARTH_RADIUS_KM = 6371.0088;

const radians = (degrees: number) => (degrees * Math.PI) / 180;

/** Great-circle distance in km (haversine formula). */
export function distanceKm(a: LatLng, b: LatLng): number {
  const dLat = radians(b.latitude - a.latitude);
  const dLng = radians(b.longitude - a.longitude);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(radians(a.latitude)) * Math.cos(radians(b.latitude)) * Math.sin(dLng / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** A postal code or prefix as compared: upper case, without white space. */
const normalPostalCode = (code: string) => code.replace(/\s+/g, '').toUpperCase();

const isLive = (location: RoutableLocation) => location.active && !location.deletedAt;

/**
 * Whether the location delivers to the destination: it is active, not deleted,
 * delivers, and the destination is in its area — an area with no prefixes and
 * no radius is everywhere; otherwise the destination's postal code starts with
 * one of the prefixes (case and spaces ignored), or both have coordinates and
 * the destination is within the radius.
 */
export function servesDestination(location: RoutableLocation, destination: Destination): boolean {
  if (!isLive(location) || !location.delivery) return false;
  const { postalCodePrefixes, radiusKm } = location.deliveryArea;
  if (postalCodePrefixes.length === 0 && radiusKm <= 0) return true;
  const postalCode = destination.postalCode ? normalPostalCode(destination.postalCode) : '';
  if (postalCode && postalCodePrefixes.some((prefix) => postalCode.startsWith(normalPostalCode(prefix)))) return true;
  return (
    radiusKm > 0 &&
    location.coordinates !== undefined &&
    destination.coordinates !== undefined &&
    distanceKm(location.coordinates, destination.coordinates) <= radiusKm
  );
}

/** Code order by code point (not locale), the same everywhere the ranking is computed or documented. */
const byCode = (a: RoutableLocation, b: RoutableLocation) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0);
const byPriorityThenCode = (a: RoutableLocation, b: RoutableLocation) => b.priority - a.priority || byCode(a, b);

/**
 * The locations in the order routing tries them.
 * - With a destination: only those that serve it (servesDestination), nearest
 *   first (when both it and the destination have coordinates; a location at an
 *   unknown distance comes after every one at a known distance), then the higher
 *   priority, then the lower code.
 * - Without one: every active, not deleted location, by priority (highest
 *   first), then code.
 */
export function rankLocations<L extends RoutableLocation>(locations: readonly L[], destination: Destination | undefined): L[] {
  if (!destination) return locations.filter(isLive).sort(byPriorityThenCode);
  const to = destination.coordinates;
  return locations
    .filter((location) => servesDestination(location, destination))
    .map((location) => ({ location, km: to && location.coordinates ? distanceKm(location.coordinates, to) : Infinity }))
    .sort((a, b) => (a.km === b.km ? byPriorityThenCode(a.location, b.location) : a.km - b.km))
    .map(({ location }) => location);
}
