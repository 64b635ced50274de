import { randomUUID } from 'node:crypto';
import { LocationKind, type Location } from '#libs/contracts/larder/inventory/v1/locations.js';
import { encodePageToken } from '#libs/validation/page-token.js';
import { chars } from '#test/support/request-validation.js';
import type { InventoryApi } from '../harness.js';
import { describeRequestValidation, itRefusesUndecodable, type Matrix } from './harness.js';

/**
 * Request validation of CreateLocation, GetLocation, ListLocations,
 * UpdateLocation and DeleteLocation. The inventory, its fixtures (a location
 * with coordinates, a ListLocations page token) and the checks after the
 * cases (no row of any table changed, locations included) are in harness.ts.
 */

/** A valid new location with these fields replaced. */
const valid = (fields: Partial<Location> = {}): Partial<Location> => ({
  code: `valid-${randomUUID().slice(0, 8)}`,
  name: 'Valid',
  kind: LocationKind.LOCATION_KIND_DARK_STORE,
  ...fields,
});
const near = { latitude: 52.52, longitude: 13.4 };

const createCases: [name: string, field: string, location: Partial<Location>][] = [
  ['missing code', 'location.code', valid({ code: '' })],
  ['code of white space', 'location.code', valid({ code: '   ' })],
  ['code of 65 characters', 'location.code', valid({ code: chars(65) })],
  ['code with "/"', 'location.code', valid({ code: 'ber/mitte' })],
  ['code with a space inside', 'location.code', valid({ code: 'ber mitte' })],
  ['code with a non-ASCII letter', 'location.code', valid({ code: 'köln-1' })],
  ['missing name', 'location.name', valid({ name: '' })],
  ['name of 201 characters', 'location.name', valid({ name: chars(201) })],
  ['name with a control character', 'location.name', valid({ name: 'Dark\u0007store' })],
  ['missing kind', 'location.kind', valid({ kind: LocationKind.LOCATION_KIND_UNSPECIFIED })],
  ['unknown kind 99', 'location.kind', valid({ kind: 99 as LocationKind })],
  [
    'address.line1 of 201 characters',
    'location.address.line1',
    valid({ address: { line1: chars(201), line2: '', city: '', postalCode: '', countryCode: '' } }),
  ],
  [
    'address.line2 of 201 characters',
    'location.address.line2',
    valid({ address: { line1: '', line2: chars(201), city: '', postalCode: '', countryCode: '' } }),
  ],
  [
    'address.city of 101 characters',
    'location.address.city',
    valid({ address: { line1: '', line2: '', city: chars(101), postalCode: '', countryCode: '' } }),
  ],
  [
    'address.postal_code of 17 characters',
    'location.address.postal_code',
    valid({ address: { line1: '', line2: '', city: '', postalCode: chars(17, '1'), countryCode: '' } }),
  ],
  [
    'address.postal_code with "_"',
    'location.address.postal_code',
    valid({ address: { line1: '', line2: '', city: '', postalCode: '10_115', countryCode: '' } }),
  ],
  [
    'address.country_code in lower case',
    'location.address.country_code',
    valid({ address: { line1: '', line2: '', city: '', postalCode: '', countryCode: 'de' } }),
  ],
  [
    'address.country_code of three letters',
    'location.address.country_code',
    valid({ address: { line1: '', line2: '', city: '', postalCode: '', countryCode: 'DEU' } }),
  ],
  ['latitude 90.5', 'location.coordinates.latitude', valid({ coordinates: { latitude: 90.5, longitude: 0 } })],
  ['latitude -91', 'location.coordinates.latitude', valid({ coordinates: { latitude: -91, longitude: 0 } })],
  ['latitude NaN', 'location.coordinates.latitude', valid({ coordinates: { latitude: NaN, longitude: 0 } })],
  ['longitude 180.01', 'location.coordinates.longitude', valid({ coordinates: { latitude: 0, longitude: 180.01 } })],
  ['longitude -Infinity', 'location.coordinates.longitude', valid({ coordinates: { latitude: 0, longitude: -Infinity } })],
  [
    '101 postal-code prefixes',
    'location.delivery_area.postal_code_prefixes',
    valid({ deliveryArea: { postalCodePrefixes: Array.from({ length: 101 }, (_, i) => String(i)), radiusKm: 0 } }),
  ],
  [
    'an empty prefix',
    'location.delivery_area.postal_code_prefixes[1]',
    valid({ deliveryArea: { postalCodePrefixes: ['10', ''], radiusKm: 0 } }),
  ],
  [
    'a prefix with "*"',
    'location.delivery_area.postal_code_prefixes[0]',
    valid({ deliveryArea: { postalCodePrefixes: ['10*'], radiusKm: 0 } }),
  ],
  [
    'a prefix of 17 characters',
    'location.delivery_area.postal_code_prefixes[0]',
    valid({ deliveryArea: { postalCodePrefixes: [chars(17, '1')], radiusKm: 0 } }),
  ],
  ['radius -1', 'location.delivery_area.radius_km', valid({ coordinates: near, deliveryArea: { postalCodePrefixes: [], radiusKm: -1 } })],
  [
    'radius 1000.5',
    'location.delivery_area.radius_km',
    valid({ coordinates: near, deliveryArea: { postalCodePrefixes: [], radiusKm: 1000.5 } }),
  ],
  ['radius NaN', 'location.delivery_area.radius_km', valid({ coordinates: near, deliveryArea: { postalCodePrefixes: [], radiusKm: NaN } })],
  [
    'radius Infinity',
    'location.delivery_area.radius_km',
    valid({ coordinates: near, deliveryArea: { postalCodePrefixes: [], radiusKm: Infinity } }),
  ],
  ['a radius without coordinates', 'location.delivery_area.radius_km', valid({ deliveryArea: { postalCodePrefixes: [], radiusKm: 5 } })],
  ['priority 1001', 'location.priority', valid({ priority: 1001 })],
  ['priority -1001', 'location.priority', valid({ priority: -1001 })],
];

const matrix: Matrix = {
  CreateLocation: [
    { name: 'missing location', field: 'location', call: (api) => api.createLocation({}) },
    ...createCases.map(([name, field, location]) => ({ name, field, call: (api: InventoryApi) => api.createLocation({ location }) })),
  ],
  GetLocation: [
    { name: 'missing id', field: 'id', call: (api) => api.getLocation({}) },
    { name: 'malformed id', field: 'id', call: (api) => api.getLocation({ id: 'ber-mitte' }) },
  ],
  ListLocations: [
    { name: 'page_size -1', field: 'page_size', call: (api) => api.listLocations({ pageSize: -1 }) },
    { name: 'page_size 1001', field: 'page_size', call: (api) => api.listLocations({ pageSize: 1001 }) },
    { name: 'garbage page_token', field: 'page_token', call: (api) => api.listLocations({ pageToken: '%%%' }) },
    { name: "ListProducts' page_token", field: 'page_token', call: (api, f) => api.listLocations({ pageToken: f.productPageToken }) },
    { name: "ListCategories' page_token", field: 'page_token', call: (api, f) => api.listLocations({ pageToken: f.categoryPageToken }) },
    {
      name: 'page_token with other show_deleted',
      field: 'page_token',
      call: (api, f) => api.listLocations({ pageToken: f.locationPageToken, showDeleted: true }),
    },
    // Tokens are not signed: anyone can build one in the issued shape. Its key must still be checked before it reaches SQL.
    {
      name: 'forged page_token whose key is no code',
      field: 'page_token',
      call: (api) => api.listLocations({ pageToken: encodePageToken("x' or '1'='1", { list: 'locations', includeDeleted: false }) }),
    },
    {
      name: 'forged page_token whose key holds a NUL character',
      field: 'page_token',
      call: (api) => api.listLocations({ pageToken: encodePageToken('ber\u0000', { list: 'locations', includeDeleted: false }) }),
    },
  ],
  UpdateLocation: [
    { name: 'missing location', field: 'location', call: (api) => api.updateLocation({ updateMask: ['name'] }) },
    { name: 'missing id', field: 'location.id', call: (api) => api.updateLocation({ location: { name: 'x' }, updateMask: ['name'] }) },
    {
      name: 'malformed id',
      field: 'location.id',
      call: (api) => api.updateLocation({ location: { id: 'x', name: 'x' }, updateMask: ['name'] }),
    },
    {
      name: 'missing update_mask',
      field: 'update_mask',
      call: (api, f) => api.updateLocation({ location: { id: f.locationId, name: 'x' } }),
    },
    {
      name: 'mask path "code" (immutable)',
      field: 'update_mask',
      call: (api, f) => api.updateLocation({ location: { id: f.locationId, code: 'other' }, updateMask: ['code'] }),
    },
    {
      name: 'mask path "default" (output only)',
      field: 'update_mask',
      call: (api, f) => api.updateLocation({ location: { id: f.locationId, default: true }, updateMask: ['default'] }),
    },
    {
      name: 'mask sub-path "address.city"',
      field: 'update_mask',
      call: (api, f) => api.updateLocation({ location: { id: f.locationId }, updateMask: ['address.city'] }),
    },
    {
      name: 'etag that is no number',
      field: 'location.etag',
      call: (api, f) => api.updateLocation({ location: { id: f.locationId, name: 'x', etag: 'W/"1"' }, updateMask: ['name'] }),
    },
    {
      name: 'masked empty name',
      field: 'location.name',
      call: (api, f) => api.updateLocation({ location: { id: f.locationId, name: '' }, updateMask: ['name'] }),
    },
    {
      name: 'masked kind unset',
      field: 'location.kind',
      call: (api, f) => api.updateLocation({ location: { id: f.locationId }, updateMask: ['kind'] }),
    },
    {
      name: 'masked address.country_code "xx"',
      field: 'location.address.country_code',
      call: (api, f) =>
        api.updateLocation({
          location: { id: f.locationId, address: { line1: '', line2: '', city: '', postalCode: '', countryCode: 'xx' } },
          updateMask: ['address'],
        }),
    },
    {
      name: 'masked latitude 91',
      field: 'location.coordinates.latitude',
      call: (api, f) =>
        api.updateLocation({ location: { id: f.locationId, coordinates: { latitude: 91, longitude: 0 } }, updateMask: ['coordinates'] }),
    },
    {
      name: 'masked radius NaN',
      field: 'location.delivery_area.radius_km',
      call: (api, f) =>
        api.updateLocation({
          location: { id: f.locationId, deliveryArea: { postalCodePrefixes: [], radiusKm: NaN } },
          updateMask: ['delivery_area'],
        }),
    },
    {
      name: 'masked prefix "1/0"',
      field: 'location.delivery_area.postal_code_prefixes[0]',
      call: (api, f) =>
        api.updateLocation({
          location: { id: f.locationId, deliveryArea: { postalCodePrefixes: ['1/0'], radiusKm: 0 } },
          updateMask: ['delivery_area'],
        }),
    },
    {
      name: 'a radius set while the coordinates are removed (checked in the transaction, rolled back)',
      field: 'location.delivery_area.radius_km',
      call: (api, f) =>
        api.updateLocation({
          location: { id: f.locationId, deliveryArea: { postalCodePrefixes: [], radiusKm: 2 } },
          updateMask: ['delivery_area', 'coordinates'],
        }),
    },
    {
      name: 'masked priority 2000',
      field: 'location.priority',
      call: (api, f) => api.updateLocation({ location: { id: f.locationId, priority: 2000 }, updateMask: ['priority'] }),
    },
    {
      name: 'masked active unset',
      field: 'location.active',
      call: (api, f) => api.updateLocation({ location: { id: f.locationId }, updateMask: ['active'] }),
    },
  ],
  DeleteLocation: [
    { name: 'missing id', field: 'id', call: (api) => api.deleteLocation({}) },
    { name: 'malformed id', field: 'id', call: (api) => api.deleteLocation({ id: '12345' }) },
  ],
};

describeRequestValidation('locations', matrix, (context) => {
  describe('undecodable requests', () => {
    itRefusesUndecodable(context, [
      { name: 'a sub-message that is not one', method: 'CreateLocation', bytes: Buffer.from([0x0a, 0x03, 0xff, 0xff, 0xff]) },
      // location.coordinates (field 6) announcing 9 bytes where 2 follow.
      { name: 'a truncated coordinates message', method: 'UpdateLocation', bytes: Buffer.from([0x0a, 0x04, 0x32, 0x09, 0x09, 0x00]) },
      {
        name: 'a varint that never ends',
        method: 'ListLocations',
        bytes: Buffer.from([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
      },
    ]);
  });
});
