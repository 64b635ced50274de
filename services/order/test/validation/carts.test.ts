import { INT32_MAX, INT32_MIN } from '#test/support/request-validation.js';
import { CART_SERVICE, describeRequestValidation, itRefusesUndecodable, type Matrix } from './harness.js';

/**
 * Request validation of CartService: GetCart, AddCartItem, UpdateCartItem,
 * RemoveCartItem and ClearCart. The system, its fixtures and the checks after
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
    ]);
  });
});
