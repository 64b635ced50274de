import type { DestinationRecord, LatLngRecord, RoutingLocation } from '../location-types.js';

const EARTH_RADIUS_KM = 6371.0088;
const rad = (degrees: number) => (degrees * Math.PI) / 180;

/** Great-circle distance in km (haversine). */
export function distanceKm(a: LatLngRecord, b: LatLngRecord): number {
  const dLat = rad(b.latitude - a.latitude);
  const dLng = rad(b.longitude - a.longitude);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.latitude)) * Math.cos(rad(b.latitude)) * Math.sin(dLng / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Postal codes compare without case and spaces: "sw1a 1aa" starts with "SW1A". */
const normalPostalCode = (code: string) => code.replace(/\s+/g, '').toUpperCase();

/**
 * Whether a location takes new reservations for goods going to `destination`:
 * active, not deleted, delivering, and the destination in its area: a postal
 * prefix matches, or both have coordinates within its radius. An area with
 * neither prefixes nor a radius is everywhere.
 */
export function servesDestination(location: RoutingLocation, destination: DestinationRecord): boolean {
  if (!location.active || location.deleted || !location.delivery) return false;
  if (location.postalCodePrefixes.length === 0 && location.radiusKm === 0) return true;
  const postal = destination.postalCode ? normalPostalCode(destination.postalCode) : undefined;
  if (postal && location.postalCodePrefixes.some((prefix) => postal.startsWith(normalPostalCode(prefix)))) return true;
  return (
    location.radiusKm > 0 &&
    location.coordinates !== undefined &&
    destination.coordinates !== undefined &&
    distanceKm(location.coordinates, destination.coordinates) <= location.radiusKm
  );
}

/**
 * The candidates of a routed reservation in the order routing tries them
 * (docs/design.md §8): with a destination, the locations that serve it, nearest
 * first (a location or destination without coordinates has no distance and comes
 * after every known one), then the highest priority, then the lowest code; with
 * none, every active location by priority, then code.
 */
export function rankLocations(locations: readonly RoutingLocation[], destination?: DestinationRecord): RoutingLocation[] {
  const candidates = destination
    ? locations.filter((l) => servesDestination(l, destination))
    : locations.filter((l) => l.active && !l.deleted);
  const distance = (l: RoutingLocation) =>
    destination?.coordinates && l.coordinates ? distanceKm(l.coordinates, destination.coordinates) : Number.POSITIVE_INFINITY;
  return candidates
    .map((location) => ({ location, km: distance(location) }))
    .sort((a, b) => {
      if (a.km !== b.km) return a.km < b.km ? -1 : 1;
      if (a.location.priority !== b.location.priority) return b.location.priority - a.location.priority;
      return a.location.code < b.location.code ? -1 : a.location.code > b.location.code ? 1 : 0;
    })
    .map((c) => c.location);
}
