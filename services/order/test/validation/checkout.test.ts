import { randomUUID } from 'node:crypto';
import { status as Code } from '@grpc/grpc-js';
import { expect } from 'chai';
import type * as orderMessages from '#libs/contracts/larder/order/v1/order_service.js';
import type { CreateOrderRequest } from '#libs/contracts/larder/order/v1/order_service.js';
import type { DeepPartial } from '#libs/grpc/client.js';
import { errorInfoOf } from '#libs/grpc/status.js';
import { chars } from '#test/support/request-validation.js';
import {
  address,
  describeRequestValidation,
  itRefusesUndecodable,
  ORDER_SERVICE,
  rawCall,
  type Api,
  type Fixtures,
  type Matrix,
} from './harness.js';

/**
 * Request validation of placing an order: Checkout (of the cart) and
 * CreateOrder (of explicit items). The system, its fixtures and the checks
 * after the cases are in harness.ts.
 */

/** A Checkout of the fixture customer's (non-empty) cart that would succeed but for `overrides`. */
const checkout = (api: Api, f: Fixtures, overrides: DeepPartial<orderMessages.CheckoutRequest> = {}) =>
  api.orders.checkout({
    customerId: f.customerId,
    idempotencyKey: `validation-${randomUUID()}`,
    paymentToken: 'tok_ok',
    shippingAddress: address(),
    ...overrides,
  });

/** A CreateOrder of products in stock that would succeed but for `overrides`. */
const createOrder = (api: Api, f: Fixtures, overrides: DeepPartial<CreateOrderRequest> = {}) =>
  api.orders.createOrder({
    customerId: f.customerId,
    items: [{ productId: f.productId, quantity: 1 }],
    idempotencyKey: `validation-${randomUUID()}`,
    paymentToken: 'tok_ok',
    shippingAddress: address(),
    ...overrides,
  });

const matrix: Matrix = {
  Checkout: [
    { name: 'missing customer_id', field: 'customer_id', call: (api, f) => checkout(api, f, { customerId: '' }) },
    { name: 'malformed customer_id', field: 'customer_id', call: (api, f) => checkout(api, f, { customerId: 'customer-1' }) },
    { name: 'missing idempotency_key', field: 'idempotency_key', call: (api, f) => checkout(api, f, { idempotencyKey: '' }) },
    { name: 'idempotency_key of only spaces', field: 'idempotency_key', call: (api, f) => checkout(api, f, { idempotencyKey: '   ' }) },
    {
      name: 'idempotency_key of 129 characters',
      field: 'idempotency_key',
      call: (api, f) => checkout(api, f, { idempotencyKey: chars(129, 'k') }),
    },
    {
      name: 'idempotency_key with a NUL character',
      field: 'idempotency_key',
      call: (api, f) => checkout(api, f, { idempotencyKey: 'key\u0000' }),
    },
    {
      name: 'idempotency_key with a BEL character',
      field: 'idempotency_key',
      call: (api, f) => checkout(api, f, { idempotencyKey: 'a\u0007b' }),
    },
    { name: 'missing payment_token', field: 'payment_token', call: (api, f) => checkout(api, f, { paymentToken: '' }) },
    {
      name: 'payment_token of 201 characters',
      field: 'payment_token',
      call: (api, f) => checkout(api, f, { paymentToken: chars(201, 't') }),
    },
    { name: 'payment_token with a space', field: 'payment_token', call: (api, f) => checkout(api, f, { paymentToken: 'tok ok' }) },
    {
      name: 'payment_token with a control character',
      field: 'payment_token',
      call: (api, f) => checkout(api, f, { paymentToken: 'tok\u0001ok' }),
    },
    { name: 'payment_token with "/"', field: 'payment_token', call: (api, f) => checkout(api, f, { paymentToken: 'tok/ok' }) },
    { name: 'payment_token with non-ASCII', field: 'payment_token', call: (api, f) => checkout(api, f, { paymentToken: 'tök_ok' }) },
    {
      name: 'country_code "nl"',
      field: 'shipping_address.country_code',
      call: (api, f) => checkout(api, f, { shippingAddress: address({ countryCode: 'nl' }) }),
    },
    {
      name: 'country_code "NLD"',
      field: 'shipping_address.country_code',
      call: (api, f) => checkout(api, f, { shippingAddress: address({ countryCode: 'NLD' }) }),
    },
    {
      name: 'country_code ""',
      field: 'shipping_address.country_code',
      call: (api, f) => checkout(api, f, { shippingAddress: address({ countryCode: '' }) }),
    },
    {
      name: 'country_code "N1"',
      field: 'shipping_address.country_code',
      call: (api, f) => checkout(api, f, { shippingAddress: address({ countryCode: 'N1' }) }),
    },
    {
      name: 'an address with every field empty',
      field: 'shipping_address.country_code',
      call: (api, f) =>
        checkout(api, f, { shippingAddress: { recipient: '', line1: '', line2: '', city: '', postalCode: '', countryCode: '' } }),
    },
    {
      name: 'recipient of 201 characters',
      field: 'shipping_address.recipient',
      call: (api, f) => checkout(api, f, { shippingAddress: address({ recipient: chars(201, 'r') }) }),
    },
    {
      name: 'missing recipient',
      field: 'shipping_address.recipient',
      call: (api, f) => checkout(api, f, { shippingAddress: address({ recipient: ' ' }) }),
    },
    {
      name: 'recipient with an escape sequence',
      field: 'shipping_address.recipient',
      call: (api, f) => checkout(api, f, { shippingAddress: address({ recipient: '\u001b[31mAda' }) }),
    },
    {
      name: 'missing line1',
      field: 'shipping_address.line1',
      call: (api, f) => checkout(api, f, { shippingAddress: address({ line1: '' }) }),
    },
    {
      name: 'line2 of 201 characters',
      field: 'shipping_address.line2',
      call: (api, f) => checkout(api, f, { shippingAddress: address({ line2: chars(201) }) }),
    },
    {
      name: 'city of 101 characters',
      field: 'shipping_address.city',
      call: (api, f) => checkout(api, f, { shippingAddress: address({ city: chars(101) }) }),
    },
    {
      name: 'postal_code of 21 characters',
      field: 'shipping_address.postal_code',
      call: (api, f) => checkout(api, f, { shippingAddress: address({ postalCode: chars(21, '1') }) }),
    },
    {
      name: 'a delivery beside shipping_address (the delivery brings the address)',
      field: 'shipping_address',
      call: (api, f) => checkout(api, f, { fulfilment: { delivery: { address: address() } } }),
    },
    { name: 'a fulfilment with neither delivery nor pickup', field: 'fulfilment', call: (api, f) => checkout(api, f, { fulfilment: {} }) },
    {
      name: 'a pickup with a malformed location_id',
      field: 'fulfilment.pickup.location_id',
      call: (api, f) => checkout(api, f, { fulfilment: { pickup: { locationId: `${f.customerId}x` } } }),
    },
    {
      name: 'a delivery address without recipient',
      field: 'fulfilment.delivery.address.recipient',
      call: (api, f) => checkout(api, f, { shippingAddress: undefined, fulfilment: { delivery: { address: address({ recipient: '' }) } } }),
    },
    {
      name: 'a delivery at latitude -90.5',
      field: 'fulfilment.delivery.coordinates.latitude',
      call: (api, f) =>
        checkout(api, f, {
          shippingAddress: undefined,
          fulfilment: { delivery: { address: address(), coordinates: { latitude: -90.5, longitude: 0 } } },
        }),
    },
  ],
  CreateOrder: [
    { name: 'missing customer_id', field: 'customer_id', call: (api, f) => createOrder(api, f, { customerId: '' }) },
    { name: 'malformed customer_id', field: 'customer_id', call: (api, f) => createOrder(api, f, { customerId: 'x' }) },
    {
      name: 'idempotency_key of 129 characters',
      field: 'idempotency_key',
      call: (api, f) => createOrder(api, f, { idempotencyKey: chars(129, 'k') }),
    },
    {
      name: 'payment_token of 201 characters',
      field: 'payment_token',
      call: (api, f) => createOrder(api, f, { paymentToken: chars(201, 't') }),
    },
    { name: 'payment_token with spaces', field: 'payment_token', call: (api, f) => createOrder(api, f, { paymentToken: 'tok_ ok' }) },
    {
      name: 'country_code "NLD"',
      field: 'shipping_address.country_code',
      call: (api, f) => createOrder(api, f, { shippingAddress: address({ countryCode: 'NLD' }) }),
    },
    {
      name: 'a delivery beside shipping_address',
      field: 'shipping_address',
      call: (api, f) =>
        createOrder(api, f, { fulfilment: { delivery: { address: address(), coordinates: { latitude: 52, longitude: 4 } } } }),
    },
    {
      name: 'a delivery postal_code with ";"',
      field: 'fulfilment.delivery.address.postal_code',
      call: (api, f) =>
        createOrder(api, f, { shippingAddress: undefined, fulfilment: { delivery: { address: address({ postalCode: '1015;AA' }) } } }),
    },
    {
      name: 'a pickup without location_id',
      field: 'fulfilment.pickup.location_id',
      call: (api, f) => createOrder(api, f, { fulfilment: { pickup: { locationId: '' } } }),
    },
    { name: 'no items', field: 'items', call: (api, f) => createOrder(api, f, { items: [] }) },
    {
      name: '101 items',
      field: 'items',
      call: (api, f) => createOrder(api, f, { items: Array.from({ length: 101 }, () => ({ productId: randomUUID(), quantity: 1 })) }),
    },
    {
      name: 'an item without product_id',
      field: 'items[0].product_id',
      call: (api, f) => createOrder(api, f, { items: [{ quantity: 1 }] }),
    },
    {
      name: 'a malformed product_id in the second item',
      field: 'items[1].product_id',
      call: (api, f) =>
        createOrder(api, f, {
          items: [
            { productId: f.productId, quantity: 1 },
            { productId: 'milk', quantity: 1 },
          ],
        }),
    },
    {
      name: 'quantity 0',
      field: 'items[0].quantity',
      call: (api, f) => createOrder(api, f, { items: [{ productId: f.productId, quantity: 0 }] }),
    },
    {
      name: 'quantity -1 in the second item',
      field: 'items[1].quantity',
      call: (api, f) =>
        createOrder(api, f, {
          items: [
            { productId: f.productId, quantity: 1 },
            { productId: f.otherProductId, quantity: -1 },
          ],
        }),
    },
    {
      name: 'quantity 1001 in the second item',
      field: 'items[1].quantity',
      call: (api, f) =>
        createOrder(api, f, {
          items: [
            { productId: f.productId, quantity: 1 },
            { productId: f.otherProductId, quantity: 1001 },
          ],
        }),
    },
    {
      name: 'the same product twice',
      field: 'items[1].product_id',
      call: (api, f) =>
        createOrder(api, f, {
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
        createOrder(api, f, {
          items: [
            { productId: f.productId, quantity: 1 },
            { productId: f.otherProductId, quantity: 1 },
            { productId: f.productId.toUpperCase(), quantity: 1 },
          ],
        }),
    },
  ],
};

describeRequestValidation('checkout', matrix, (context) => {
  describe('undecodable requests', () => {
    itRefusesUndecodable(context, [
      { name: 'an invalid wire type', path: `/${ORDER_SERVICE}/Checkout`, bytes: Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]) },
      { name: 'a length past the end', path: `/${ORDER_SERVICE}/CreateOrder`, bytes: Buffer.from([0x0a, 0x7f, 0x41, 0x42]) },
    ]);

    it('an empty message decodes to defaults and is refused by validation, not by the decoder', async () => {
      const error = await rawCall(context.system.orderAddress, `/${ORDER_SERVICE}/Checkout`, Buffer.alloc(0));
      context.outcomes.push({ name: 'Checkout: empty bytes', code: error ? Code[error.code]! : 'OK' });
      expect(error, 'Checkout accepted an empty request').to.not.equal(null);
      expect(Code[error!.code]).to.equal('INVALID_ARGUMENT');
      expect(errorInfoOf(error!)?.metadata.field).to.equal('customer_id');
    });
  });
});
