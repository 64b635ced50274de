import { LocationKind as LocationKindMessage, type Location } from '#libs/contracts/larder/inventory/v1/locations.js';
import type { LocationKind, LocationRecord } from '../domain/location-types.js';

/** Location records → protobuf messages, for the location RPCs and events. */

export const locationKindMessage: Record<LocationKind, LocationKindMessage> = {
  STORE: LocationKindMessage.LOCATION_KIND_STORE,
  DARK_STORE: LocationKindMessage.LOCATION_KIND_DARK_STORE,
  WAREHOUSE: LocationKindMessage.LOCATION_KIND_WAREHOUSE,
};

export const toLocationMessage = (location: LocationRecord): Location => ({
  id: location.id,
  code: location.code,
  name: location.name,
  kind: locationKindMessage[location.kind],
  address: { ...location.address },
  coordinates: location.coordinates ? { ...location.coordinates } : undefined,
  delivery: location.delivery,
  pickup: location.pickup,
  deliveryArea: { postalCodePrefixes: [...location.deliveryArea.postalCodePrefixes], radiusKm: location.deliveryArea.radiusKm },
  priority: location.priority,
  active: location.active,
  default: location.isDefault,
  etag: String(location.version),
  createTime: location.createdAt,
  updateTime: location.updatedAt,
  deleteTime: location.deletedAt,
});
