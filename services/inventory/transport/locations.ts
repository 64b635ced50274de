import {
  LocationKind as LocationKindMessage,
  type DeliveryArea as DeliveryAreaMessage,
  type Location,
  type LocationAddress as LocationAddressMessage,
} from '#libs/contracts/larder/inventory/v1/locations.js';
import { invalid } from '#libs/errors/app-error.js';
import { rpcError } from '#libs/grpc/rpc-errors.js';
import { decodePageToken, encodePageToken } from '#libs/validation/page-token.js';
import * as v from '#libs/validation/fields.js';
import { latLng, postalCode } from '#libs/validation/geo.js';
import { toLocationMessage } from '../contract/to-proto-locations.js';
import { createLocation } from '../domain/locations/create-location.js';
import { deleteLocation } from '../domain/locations/delete-location.js';
import { getLocation, listLocationPage } from '../domain/locations/read-locations.js';
import { updateLocation } from '../domain/locations/update-location.js';
import type { DeliveryArea, LocationAddress, LocationKind, LocationPatch } from '../domain/location-types.js';
import { locationIsDefault, locationNotFound } from './rpc-errors.js';
import type { InventoryRpcs } from './scopes.js';

const CODE = /^[A-Za-z0-9._-]+$/;

const KINDS: Record<number, LocationKind> = {
  [LocationKindMessage.LOCATION_KIND_STORE]: 'STORE',
  [LocationKindMessage.LOCATION_KIND_DARK_STORE]: 'DARK_STORE',
  [LocationKindMessage.LOCATION_KIND_WAREHOUSE]: 'WAREHOUSE',
};

/** A double within [min, max]: NaN and the infinities (which protobuf carries) are refused. */
function finite(field: string, value: number | undefined, { min, max }: { min: number; max: number }): number {
  const n = value ?? 0;
  if (!Number.isFinite(n)) throw invalid(field, `must be a finite number, got ${n}`);
  if (n < min || n > max) throw invalid(field, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

/** The location fields' validators (postal codes and coordinates: #libs/validation/geo.js, as for destinations). */
const locationFields = {
  code: (value: string | undefined) => {
    const code = v.text('location.code', value, { min: 1, max: 64 });
    if (!CODE.test(code)) throw invalid('location.code', 'may only contain letters, digits, ".", "_" and "-"');
    return code;
  },
  name: (value: string | undefined) => v.text('location.name', value, { min: 1, max: 200 }),
  kind: (value: LocationKindMessage | undefined): LocationKind => KINDS[v.enumValue('location.kind', value, LocationKindMessage)]!,
  address: (value: LocationAddressMessage | undefined): LocationAddress => {
    const countryCode = v.text('location.address.country_code', value?.countryCode, { max: 2 });
    if (countryCode && !/^[A-Z]{2}$/.test(countryCode)) {
      throw invalid('location.address.country_code', 'must be two upper-case letters (ISO 3166-1 alpha-2) or empty');
    }
    return {
      line1: v.text('location.address.line1', value?.line1, { max: 200 }),
      line2: v.text('location.address.line2', value?.line2, { max: 200 }),
      city: v.text('location.address.city', value?.city, { max: 100 }),
      postalCode: postalCode('location.address.postal_code', value?.postalCode) ?? '',
      countryCode,
    };
  },
  deliveryArea: (value: DeliveryAreaMessage | undefined): DeliveryArea => {
    const field = 'location.delivery_area.postal_code_prefixes';
    const prefixes = v.listSize(field, value?.postalCodePrefixes, { min: 0, max: 100 });
    return {
      postalCodePrefixes: prefixes.map((prefix, index) => postalCode(`${field}[${index}]`, prefix, { required: true })!),
      radiusKm: finite('location.delivery_area.radius_km', value?.radiusKm, { min: 0, max: 1000 }),
    };
  },
  priority: (value: number | undefined) => v.integer('location.priority', value, { min: -1000, max: 1000 }),
};

const MASK_PATHS = ['name', 'kind', 'address', 'coordinates', 'delivery', 'pickup', 'delivery_area', 'priority', 'active'] as const;

/** The masked fields of an UpdateLocation, validated; the others stay absent (unchanged). */
function locationPatch(location: Location, paths: readonly string[]): LocationPatch {
  const has = (path: (typeof MASK_PATHS)[number]) => paths.includes(path);
  if (has('active') && location.active === undefined) throw invalid('location.active', 'must be set when update_mask names it');
  return {
    name: has('name') ? locationFields.name(location.name) : undefined,
    kind: has('kind') ? locationFields.kind(location.kind) : undefined,
    address: has('address') ? locationFields.address(location.address) : undefined,
    coordinates: has('coordinates') ? (latLng('location.coordinates', location.coordinates) ?? null) : undefined,
    delivery: has('delivery') ? location.delivery : undefined,
    pickup: has('pickup') ? location.pickup : undefined,
    deliveryArea: has('delivery_area') ? locationFields.deliveryArea(location.deliveryArea) : undefined,
    priority: has('priority') ? locationFields.priority(location.priority) : undefined,
    active: has('active') ? location.active : undefined,
  };
}

/** The location RPCs: each one's scope, errors and handler. */
export const locationRpcs = {
  createLocation: {
    scope: 'locations.write',
    errors: [rpcError('ALREADY_EXISTS', 'LOCATION_CODE_TAKEN', 'a location (deleted ones included) has this code')],
    async handle(deps, request, ctx) {
      const location = request.location;
      if (!location) throw invalid('location', 'is required');
      const created = await createLocation(deps, ctx, {
        code: locationFields.code(location.code),
        name: locationFields.name(location.name),
        kind: locationFields.kind(location.kind),
        address: locationFields.address(location.address),
        coordinates: latLng('location.coordinates', location.coordinates),
        delivery: location.delivery,
        pickup: location.pickup,
        deliveryArea: locationFields.deliveryArea(location.deliveryArea),
        priority: locationFields.priority(location.priority),
        active: location.active ?? true,
      });
      return { location: toLocationMessage(created) };
    },
  },

  getLocation: {
    scope: 'catalog.read',
    errors: [locationNotFound],
    async handle(deps, request) {
      return { location: toLocationMessage(await getLocation(deps, v.requireUuid('id', request.id))) };
    },
  },

  listLocations: {
    scope: 'catalog.read',
    errors: [],
    async handle(deps, request) {
      const pageSize = v.pageSize('page_size', request.pageSize);
      const filter = { includeDeleted: request.showDeleted };
      // The list's name is part of the fingerprint: another list's token with the same filters is refused.
      const query = { list: 'locations', ...filter };
      const afterCode = decodePageToken('page_token', request.pageToken, query);
      // Tokens are not signed: the key that comes back is checked like any code before it reaches SQL.
      if (afterCode !== undefined && !(afterCode.length <= 64 && CODE.test(afterCode))) {
        throw invalid('page_token', 'is not a token this server issued');
      }
      const page = await listLocationPage(deps, filter, afterCode, pageSize);
      return {
        locations: page.locations.map(toLocationMessage),
        nextPageToken: page.nextAfterCode !== undefined ? encodePageToken(page.nextAfterCode, query) : '',
      };
    },
  },

  updateLocation: {
    scope: 'locations.write',
    errors: [
      locationNotFound,
      rpcError('ABORTED', 'ETAG_MISMATCH', 'location.etag is not the current one'),
      rpcError('FAILED_PRECONDITION', 'LOCATION_DELETED', 'the location is deleted'),
      locationIsDefault,
    ],
    async handle(deps, request, ctx) {
      const location = request.location;
      if (!location) throw invalid('location', 'is required');
      const id = v.requireUuid('location.id', location.id);
      const paths = v.maskPaths('update_mask', request.updateMask, MASK_PATHS);
      const updated = await updateLocation(deps, ctx, {
        id,
        patch: locationPatch(location, paths),
        expectedVersion: v.etagVersion('location.etag', location.etag),
        changedFields: paths,
      });
      return { location: toLocationMessage(updated) };
    },
  },

  deleteLocation: {
    scope: 'locations.write',
    errors: [
      locationNotFound,
      rpcError(
        'FAILED_PRECONDITION',
        'LOCATION_IN_USE',
        'the location holds stock, live reservations or transfers in transit; ErrorInfo metadata in_use_by names which (stock, reservations, transfers) with their counts',
      ),
      locationIsDefault,
    ],
    async handle(deps, request, ctx) {
      return { location: toLocationMessage(await deleteLocation(deps, ctx, v.requireUuid('id', request.id))) };
    },
  },
} satisfies InventoryRpcs;
