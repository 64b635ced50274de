/**
 * Locations as the domain sees them (docs/design.md §8; no SQL, no protobuf): the
 * records of the location RPCs, and what routing knows of a location and of where goods go.
 */

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

export type LocationKind = 'STORE' | 'DARK_STORE' | 'WAREHOUSE';

export interface LocationAddress {
  line1: string;
  line2: string;
  city: string;
  postalCode: string;
  countryCode: string;
}

/** Where a location delivers: postal-code prefixes, or a radius around it; neither is everywhere. */
export interface DeliveryArea {
  postalCodePrefixes: string[];
  /** 0: no radius. */
  radiusKm: number;
}

export interface LocationRecord {
  id: string;
  code: string;
  name: string;
  kind: LocationKind;
  address: LocationAddress;
  coordinates?: LatLngRecord;
  delivery: boolean;
  pickup: boolean;
  deliveryArea: DeliveryArea;
  priority: number;
  active: boolean;
  /** The location calls without a location id use (made by migration 008; exactly one). */
  isDefault: boolean;
  /** The etag. */
  version: number;
  createdAt: Date;
  updatedAt: Date;
  deletedAt?: Date;
}

/** A location as CreateLocation writes it. */
export type NewLocation = Omit<LocationRecord, 'isDefault' | 'version' | 'createdAt' | 'updatedAt' | 'deletedAt'>;

/** What UpdateLocation may change; an absent key keeps its value, `coordinates: null` removes them. */
export type LocationPatch = Partial<
  Pick<NewLocation, 'name' | 'kind' | 'address' | 'delivery' | 'pickup' | 'deliveryArea' | 'priority' | 'active'> & {
    coordinates: LatLngRecord | null;
  }
>;

/** Which locations ListLocations returns. */
export interface LocationFilter {
  includeDeleted: boolean;
}

/**
 * What a location holds that DeleteLocation refuses to delete it with: stock rows
 * with units (available, reserved or in transit), RESERVED reservations with a
 * line there, transfers IN_TRANSIT from or to it.
 */
export interface LocationUse {
  stockRows: number;
  liveReservations: number;
  transfersInTransit: number;
}
