/** Locations as the domain sees them (no SQL, no protobuf): the records of the location RPCs and of routing. */

export type LocationKind = 'STORE' | 'DARK_STORE' | 'WAREHOUSE';

/** A point on the earth (WGS84), degrees. */
export interface LatLng {
  latitude: number;
  longitude: number;
}

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
  coordinates?: LatLng;
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
    coordinates: LatLng | null;
  }
>;

/** Which locations ListLocations returns. */
export interface LocationFilter {
  includeDeleted: boolean;
}

/** Where a reservation's goods go, for routing: a postal code, coordinates, or both. */
export interface Destination {
  postalCode?: string;
  coordinates?: LatLng;
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

/**
 * The location a stock writer that adds units there (AdjustStock, CreateTransfer's
 * receiver, ReceiveTransfer) holds FOR SHARE until it commits: `ok` with it, or
 * why it may take no stock — `missing` (no such id) or `inactive` (deactivated
 * or deleted; `location.deletedAt` tells which).
 */
export type LocationForStock =
  { outcome: 'ok'; location: LocationRecord } | { outcome: 'missing' } | { outcome: 'inactive'; location: LocationRecord };
