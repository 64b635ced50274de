import { randomUUID } from 'node:crypto';
import { status as Code } from '@grpc/grpc-js';
import { expect } from 'chai';
import { errorInfoOf } from '#libs/grpc/status.js';
import { chars, INT32_MAX } from '#test/support/request-validation.js';
import type { InventoryApi } from '../harness.js';
import { describeRequestValidation, itRefusesUndecodable, rawCall, type Fixtures, type Matrix } from './harness.js';

/**
 * Request validation of ReserveStock, GetReservation, CommitReservation,
 * ReleaseReservation and ExtendReservation. The inventory,
 * its fixtures and the checks after the cases are in harness.ts.
 */

const matrix: Matrix = {
  ReserveStock: [
    {
      name: 'missing order_id',
      field: 'order_id',
      call: (api, f) => api.reserveStock({ items: [{ productId: f.productId, quantity: 1 }] }),
    },
    {
      name: 'malformed order_id',
      field: 'order_id',
      call: (api, f) => api.reserveStock({ orderId: 'order-1', items: [{ productId: f.productId, quantity: 1 }] }),
    },
    { name: 'no items', field: 'items', call: (api) => api.reserveStock({ orderId: randomUUID(), items: [] }) },
    {
      name: '101 items',
      field: 'items',
      call: (api) =>
        api.reserveStock({ orderId: randomUUID(), items: Array.from({ length: 101 }, () => ({ productId: randomUUID(), quantity: 1 })) }),
    },
    {
      name: 'an item without product_id',
      field: 'items[0].product_id',
      call: (api) => api.reserveStock({ orderId: randomUUID(), items: [{ quantity: 1 }] }),
    },
    {
      name: 'a malformed product_id in the second item',
      field: 'items[1].product_id',
      call: (api, f) =>
        api.reserveStock({
          orderId: randomUUID(),
          items: [
            { productId: f.productId, quantity: 1 },
            { productId: 'milk', quantity: 1 },
          ],
        }),
    },
    {
      name: 'quantity 0',
      field: 'items[0].quantity',
      call: (api, f) => api.reserveStock({ orderId: randomUUID(), items: [{ productId: f.productId, quantity: 0 }] }),
    },
    {
      name: 'quantity -1 in the second item',
      field: 'items[1].quantity',
      call: (api, f) =>
        api.reserveStock({
          orderId: randomUUID(),
          items: [
            { productId: f.productId, quantity: 1 },
            { productId: f.otherProductId, quantity: -1 },
          ],
        }),
    },
    {
      name: 'quantity 10001',
      field: 'items[0].quantity',
      call: (api, f) => api.reserveStock({ orderId: randomUUID(), items: [{ productId: f.productId, quantity: 10_001 }] }),
    },
    {
      name: 'quantity 2^31-1 in the second item',
      field: 'items[1].quantity',
      call: (api, f) =>
        api.reserveStock({
          orderId: randomUUID(),
          items: [
            { productId: f.productId, quantity: 1 },
            { productId: f.otherProductId, quantity: INT32_MAX },
          ],
        }),
    },
    {
      name: 'the same product twice',
      field: 'items[1].product_id',
      call: (api, f) =>
        api.reserveStock({
          orderId: randomUUID(),
          items: [
            { productId: f.productId, quantity: 1 },
            { productId: f.productId, quantity: 2 },
          ],
        }),
    },
    {
      name: 'the same product twice, in other case',
      field: 'items[2].product_id',
      call: (api, f) =>
        api.reserveStock({
          orderId: randomUUID(),
          items: [
            { productId: f.productId, quantity: 1 },
            { productId: f.otherProductId, quantity: 1 },
            { productId: f.productId.toUpperCase(), quantity: 1 },
          ],
        }),
    },
    {
      name: 'ttl of 0.5 s',
      field: 'ttl',
      call: (api, f) =>
        api.reserveStock({
          orderId: randomUUID(),
          items: [{ productId: f.productId, quantity: 1 }],
          ttl: { seconds: 0, nanos: 500_000_000 },
        }),
    },
    {
      name: 'ttl of 25 h',
      field: 'ttl',
      call: (api, f) =>
        api.reserveStock({ orderId: randomUUID(), items: [{ productId: f.productId, quantity: 1 }], ttl: { seconds: 25 * 3600 } }),
    },
    {
      name: 'ttl of zero',
      field: 'ttl',
      call: (api, f) =>
        api.reserveStock({ orderId: randomUUID(), items: [{ productId: f.productId, quantity: 1 }], ttl: { seconds: 0, nanos: 0 } }),
    },
    {
      name: 'ttl with negative nanos',
      field: 'ttl',
      call: (api, f) =>
        api.reserveStock({ orderId: randomUUID(), items: [{ productId: f.productId, quantity: 1 }], ttl: { seconds: 60, nanos: -1 } }),
    },
    {
      name: 'ttl with nanos over a second',
      field: 'ttl',
      call: (api, f) =>
        api.reserveStock({
          orderId: randomUUID(),
          items: [{ productId: f.productId, quantity: 1 }],
          ttl: { seconds: 60, nanos: 1_000_000_000 },
        }),
    },
    {
      name: 'negative ttl',
      field: 'ttl',
      call: (api, f) =>
        api.reserveStock({ orderId: randomUUID(), items: [{ productId: f.productId, quantity: 1 }], ttl: { seconds: -60 } }),
    },
    ...(
      [
        ['malformed location_id', { locationId: 'store-7' }, 'location_id'],
        [
          'a location and a destination',
          { locationId: '00000000-0000-4000-8000-000000000001', destination: { postalCode: '10115' } },
          'destination',
        ],
        ['a pinned location with SPLIT_ALLOWED', { locationId: '00000000-0000-4000-8000-000000000001', policy: 2 }, 'policy'],
        ['an unknown policy 7', { policy: 7 }, 'policy'],
        ['an empty destination', { destination: {} }, 'destination'],
        ['a destination postal code of 17 characters', { destination: { postalCode: '12345678901234567' } }, 'destination.postal_code'],
        ['a destination postal code with a slash', { destination: { postalCode: '10/115' } }, 'destination.postal_code'],
        [
          'a destination longitude of 180.5',
          { destination: { coordinates: { latitude: 0, longitude: 180.5 } } },
          'destination.coordinates.longitude',
        ],
        [
          'a destination latitude of NaN',
          { destination: { coordinates: { latitude: Number.NaN, longitude: 0 } } },
          'destination.coordinates.latitude',
        ],
      ] as const
    ).map(([name, routing, field]) => ({
      name,
      field,
      call: (api: InventoryApi, f: Fixtures) =>
        api.reserveStock({ orderId: randomUUID(), items: [{ productId: f.productId, quantity: 1 }], ...(routing as object) }),
    })),
  ],
  GetReservation: [
    { name: 'missing order_id', field: 'order_id', call: (api) => api.getReservation({}) },
    { name: 'malformed order_id', field: 'order_id', call: (api) => api.getReservation({ orderId: 'order-1' }) },
  ],
  CommitReservation: [
    { name: 'missing order_id', field: 'order_id', call: (api) => api.commitReservation({}) },
    { name: 'malformed order_id', field: 'order_id', call: (api, f) => api.commitReservation({ orderId: ` ${f.orderId}` }) },
  ],
  ReleaseReservation: [
    { name: 'missing order_id', field: 'order_id', call: (api) => api.releaseReservation({ reason: 'cancelled' }) },
    { name: 'malformed order_id', field: 'order_id', call: (api) => api.releaseReservation({ orderId: 'order-1', reason: 'cancelled' }) },
    {
      name: 'reason of 501 characters',
      field: 'reason',
      call: (api, f) => api.releaseReservation({ orderId: f.orderId, reason: chars(501) }),
    },
    {
      name: 'reason with a control character',
      field: 'reason',
      call: (api, f) => api.releaseReservation({ orderId: f.orderId, reason: 'payment\u0000declined' }),
    },
  ],
  ExtendReservation: [
    { name: 'missing order_id', field: 'order_id', call: (api) => api.extendReservation({ ttl: { seconds: 60 } }) },
    { name: 'malformed order_id', field: 'order_id', call: (api) => api.extendReservation({ orderId: 'order-1', ttl: { seconds: 60 } }) },
    { name: 'missing ttl', field: 'ttl', call: (api, f) => api.extendReservation({ orderId: f.orderId }) },
    {
      name: 'ttl of 0.5 s',
      field: 'ttl',
      call: (api, f) => api.extendReservation({ orderId: f.orderId, ttl: { seconds: 0, nanos: 500_000_000 } }),
    },
    { name: 'ttl of 25 h', field: 'ttl', call: (api, f) => api.extendReservation({ orderId: f.orderId, ttl: { seconds: 25 * 3600 } }) },
    {
      name: 'ttl with negative nanos',
      field: 'ttl',
      call: (api, f) => api.extendReservation({ orderId: f.orderId, ttl: { seconds: 60, nanos: -500_000_000 } }),
    },
  ],
};

describeRequestValidation('reservations', matrix, (context) => {
  describe('undecodable requests', () => {
    itRefusesUndecodable(context, [
      { name: 'an invalid wire type', method: 'ReserveStock', bytes: Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]) },
      { name: 'a length past the end', method: 'ReserveStock', bytes: Buffer.from([0x0a, 0x7f, 0x41, 0x42]) },
    ]);

    it('an empty message decodes to defaults and is refused by validation, not by the decoder', async () => {
      const { error } = await rawCall(context.inv.address, 'ReserveStock', Buffer.alloc(0));
      context.outcomes.push({ name: 'ReserveStock: empty bytes', code: error ? Code[error.code]! : 'OK' });
      expect(error, 'ReserveStock accepted an empty request').to.not.equal(null);
      expect(Code[error!.code]).to.equal('INVALID_ARGUMENT');
      expect(errorInfoOf(error!)?.metadata.field).to.equal('order_id');
    });
  });
});
