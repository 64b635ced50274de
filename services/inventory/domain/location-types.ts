/** The routing vocabulary (docs/design.md §8): what routing knows of a location and of where goods go. */

export interface LatLngRecord {
  latitude: number;
  longitude: number;
}

/** A location as routing sees it (the location directory's entries). */
export interface RoutingLocation {
  id: string;
  code: string;
  priority: number;
  active: boolean;
  deleted: boolean;
  isDefault: boolean;
  delivery: boolean;
  pickup: boolean;
  coordinates?: LatLngRecord;
  postalCodePrefixes: string[];
  radiusKm: number;
}

/** Where a reservation's goods go: a postal code, coordinates, or both. */
export interface DestinationRecord {
  postalCode?: string;
  coordinates?: LatLngRecord;
}

export type AllocationPolicy = 'SINGLE_LOCATION' | 'SPLIT_ALLOWED';
