import { INT32_MAX, INT32_MIN } from '#test/support/request-validation.js';
import { randomUUID } from 'node:crypto';
import type { Fulfilment } from '#libs/contracts/larder/order/v1/resources.js';
import type { DeepPartial } from '#libs/grpc/client.js';
import { address, CART_SERVICE, describeRequestValidation, itRefusesUndecodable, type Api, type Fixtures, type Matrix } from './harness.js';

/** A SetCartFulfilment of the fixture customer's cart with `fulfilment`. */
const setFulfilment = (api: Api, f: Fixtures, fulfilment: DeepPartial<Fulfilment>) =>
  api.carts.setCartFulfilment({ customerId: f.customerId, fulfilment });
const delivery = (overrides: DeepPartial<Fulfilment['delivery']> = {}) => ({ delivery: { address: address(), ...overrides } });

/**
 * Request validation of CartService: GetCart, AddCartItem, UpdateCartItem,
 * RemoveCartItem, ClearCart and SetCartFulfilment. The system, its fixtures and the checks after
 * the cases are in harness.ts.
 */

const matrix: Matrix = {
  GetCart: [
    { name: 'missing customer_id', field: 'customer_id', call: (api) => api.carts.getCart({}) },
    { name: 'malformed customer_id', field: 'customer_id', call: (api) => api.carts.getCart({ customerId: 'customer-1' }) },
    { name: 'UUID with trailing junk', field: 'customer_id', call: (api, f) => api.carts.getCart({ customerId: `${f.customerId}x` }) },
    { name: 'SQL in the customer_id', field: 'customer_id', call: (api) => api.carts.getCart({ customerId: "' OR 1=1 --" }) },
  ],
  AddCartItem: [
    {
      name: 'missing customer_id',
      field: 'customer_id',
      call: (api, f) => api.carts.addCartItem({ productId: f.productId, quantity: 1 }),
    },
    {
      name: 'malformed customer_id',
      field: 'customer_id',
      call: (api, f) => api.carts.addCartItem({ customerId: 'bob', productId: f.productId, quantity: 1 }),
    },
    {
      name: 'customer_id with a control character',
      field: 'customer_id',
      call: (api, f) => api.carts.addCartItem({ customerId: `${f.customerId}\u0000`, productId: f.productId, quantity: 1 }),
    },
    {
      name: 'missing product_id',
      field: 'product_id',
      call: (api, f) => api.carts.addCartItem({ customerId: f.customerId, quantity: 1 }),
    },
    {
      name: 'malformed product_id',
      field: 'product_id',
      call: (api, f) => api.carts.addCartItem({ customerId: f.customerId, productId: 'milk', quantity: 1 }),
    },
    {
      name: 'product_id without dashes',
      field: 'product_id',
      call: (api, f) => api.carts.addCartItem({ customerId: f.customerId, productId: f.productId.replace(/-/g, ''), quantity: 1 }),
    },
    {
      name: 'quantity 0',
      field: 'quantity',
      call: (api, f) => api.carts.addCartItem({ customerId: f.customerId, productId: f.productId, quantity: 0 }),
    },
    {
      name: 'quantity -1',
      field: 'quantity',
      call: (api, f) => api.carts.addCartItem({ customerId: f.customerId, productId: f.productId, quantity: -1 }),
    },
    {
      name: 'quantity 1001',
      field: 'quantity',
      call: (api, f) => api.carts.addCartItem({ customerId: f.customerId, productId: f.productId, quantity: 1001 }),
    },
    {
      name: 'quantity 2^31-1',
      field: 'quantity',
      call: (api, f) => api.carts.addCartItem({ customerId: f.customerId, productId: f.productId, quantity: INT32_MAX }),
    },
    {
      name: 'quantity -2^31',
      field: 'quantity',
      call: (api, f) => api.carts.addCartItem({ customerId: f.customerId, productId: f.productId, quantity: INT32_MIN }),
    },
    {
      name: 'quantity 999 onto the 2 the line holds (1001 > 1000)',
      field: 'quantity',
      call: (api, f) => api.carts.addCartItem({ customerId: f.customerId, productId: f.productId, quantity: 999 }),
    },
  ],
  UpdateCartItem: [
    {
      name: 'missing customer_id',
      field: 'customer_id',
      call: (api, f) => api.carts.updateCartItem({ productId: f.productId, quantity: 1 }),
    },
    {
      name: 'malformed customer_id',
      field: 'customer_id',
      call: (api, f) => api.carts.updateCartItem({ customerId: '42', productId: f.productId, quantity: 1 }),
    },
    {
      name: 'missing product_id',
      field: 'product_id',
      call: (api, f) => api.carts.updateCartItem({ customerId: f.customerId, quantity: 1 }),
    },
    {
      name: 'malformed product_id',
      field: 'product_id',
      call: (api, f) => api.carts.updateCartItem({ customerId: f.customerId, productId: 'milk', quantity: 1 }),
    },
    {
      name: 'quantity -1',
      field: 'quantity',
      call: (api, f) => api.carts.updateCartItem({ customerId: f.customerId, productId: f.productId, quantity: -1 }),
    },
    {
      name: 'quantity 1001',
      field: 'quantity',
      call: (api, f) => api.carts.updateCartItem({ customerId: f.customerId, productId: f.productId, quantity: 1001 }),
    },
    {
      name: 'quantity -2^31',
      field: 'quantity',
      call: (api, f) => api.carts.updateCartItem({ customerId: f.customerId, productId: f.productId, quantity: INT32_MIN }),
    },
  ],
  RemoveCartItem: [
    { name: 'missing customer_id', field: 'customer_id', call: (api, f) => api.carts.removeCartItem({ productId: f.productId }) },
    {
      name: 'malformed customer_id',
      field: 'customer_id',
      call: (api, f) => api.carts.removeCartItem({ customerId: ` ${f.customerId}`, productId: f.productId }),
    },
    { name: 'missing product_id', field: 'product_id', call: (api, f) => api.carts.removeCartItem({ customerId: f.customerId }) },
    {
      name: 'malformed product_id',
      field: 'product_id',
      call: (api, f) => api.carts.removeCartItem({ customerId: f.customerId, productId: `{${f.productId}}` }),
    },
  ],
  SetCartFulfilment: [
    {
      name: 'missing customer_id',
      field: 'customer_id',
      call: (api) => api.carts.setCartFulfilment({ fulfilment: { pickup: { locationId: randomUUID() } } }),
    },
    { name: 'malformed customer_id', field: 'customer_id', call: (api) => api.carts.setCartFulfilment({ customerId: 'cart-1' }) },
    { name: 'a fulfilment with neither delivery nor pickup', field: 'fulfilment', call: (api, f) => setFulfilment(api, f, {}) },
    {
      name: 'a pickup without location_id',
      field: 'fulfilment.pickup.location_id',
      call: (api, f) => setFulfilment(api, f, { pickup: {} }),
    },
    {
      name: 'a pickup with a malformed location_id',
      field: 'fulfilment.pickup.location_id',
      call: (api, f) => setFulfilment(api, f, { pickup: { locationId: 'store-1' } }),
    },
    {
      name: 'a delivery without an address',
      field: 'fulfilment.delivery.address',
      call: (api, f) => setFulfilment(api, f, { delivery: {} }),
    },
    {
      name: 'a delivery address with country_code "nl"',
      field: 'fulfilment.delivery.address.country_code',
      call: (api, f) => setFulfilment(api, f, delivery({ address: address({ countryCode: 'nl' }) })),
    },
    {
      name: 'a delivery address without postal_code',
      field: 'fulfilment.delivery.address.postal_code',
      call: (api, f) => setFulfilment(api, f, delivery({ address: address({ postalCode: ' ' }) })),
    },
    {
      name: 'a delivery postal_code with "/"',
      field: 'fulfilment.delivery.address.postal_code',
      call: (api, f) => setFulfilment(api, f, delivery({ address: address({ postalCode: '1015/AA' }) })),
    },
    {
      name: 'a delivery postal_code of 17 characters (routing matches 16 at most)',
      field: 'fulfilment.delivery.address.postal_code',
      call: (api, f) => setFulfilment(api, f, delivery({ address: address({ postalCode: '1'.repeat(17) }) })),
    },
    {
      name: 'latitude 90.5',
      field: 'fulfilment.delivery.coordinates.latitude',
      call: (api, f) => setFulfilment(api, f, delivery({ coordinates: { latitude: 90.5, longitude: 4.9 } })),
    },
    {
      name: 'longitude NaN',
      field: 'fulfilment.delivery.coordinates.longitude',
      call: (api, f) => setFulfilment(api, f, delivery({ coordinates: { latitude: 52.4, longitude: Number.NaN } })),
    },
    {
      name: 'longitude -Infinity',
      field: 'fulfilment.delivery.coordinates.longitude',
      call: (api, f) => setFulfilment(api, f, delivery({ coordinates: { latitude: 52.4, longitude: Number.NEGATIVE_INFINITY } })),
    },
  ],
  ClearCart: [
    { name: 'missing customer_id', field: 'customer_id', call: (api) => api.carts.clearCart({}) },
    { name: 'malformed customer_id', field: 'customer_id', call: (api) => api.carts.clearCart({ customerId: '*' }) },
    {
      name: 'customer_id with trailing junk',
      field: 'customer_id',
      call: (api, f) => api.carts.clearCart({ customerId: `${f.customerId}; delete from carts` }),
    },
  ],
};

describeRequestValidation('cart', matrix, (context) => {
  describe('undecodable requests', () => {
    itRefusesUndecodable(context, [
      { name: 'an invalid wire type', path: `/${CART_SERVICE}/AddCartItem`, bytes: Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]) },
      { name: 'a truncated varint', path: `/${CART_SERVICE}/UpdateCartItem`, bytes: Buffer.from([0x18, 0xff, 0xff]) },
      { name: 'a fulfilment longer than the message', path: `/${CART_SERVICE}/SetCartFulfilment`, bytes: Buffer.from([0x12, 0x40, 0x0a]) },
    ]);
  });
});
