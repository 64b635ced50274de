import { randomUUID } from 'node:crypto';
import { Client, credentials, Metadata, status as Code, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { HealthCheckResponse_ServingStatus as Serving, HealthClient } from '#libs/contracts/grpc/health/v1/health.js';
import {
  ServerReflectionClient,
  type ServerReflectionRequest,
  type ServerReflectionResponse,
} from '#libs/contracts/grpc/reflection/v1/reflection.js';
import * as cartMessages from '#libs/contracts/larder/order/v1/cart_service.js';
import { CartServiceService } from '#libs/contracts/larder/order/v1/cart_service.js';
import * as orderMessages from '#libs/contracts/larder/order/v1/order_service.js';
import {
  OrderServiceService,
  WatchOrderRequest,
  type CreateOrderRequest,
  type WatchOrderResponse,
} from '#libs/contracts/larder/order/v1/order_service.js';
import { OrderStatus, type ShippingAddress } from '#libs/contracts/larder/order/v1/resources.js';
import { createPromiseClient, type DeepPartial } from '#libs/grpc/client.js';
import { errorInfoOf } from '#libs/grpc/status.js';
import { expectGrpcError, outcomeOf } from '#test/support/grpc-errors.js';
import { encodePageToken } from '#libs/validation/page-token.js';
import {
  createProduct,
  hasStatus,
  ORDER_ADMIN_KEY,
  startSystem,
  waitForOrder,
  type CartApi,
  type OrderApi,
  type TestSystem,
} from './system.js';

/**
 * The order service's two gRPC services fed bad input and called with every
 * development key, both services running as processes:
 *  - every CartService and OrderService RPC answers bad input with
 *    INVALID_ARGUMENT and an ErrorInfo naming the field (proto snake_case
 *    path), and none of them changes the order database;
 *  - API keys and scopes are enforced per RPC as the contract documents;
 *    health and reflection need no key.
 */

const STOREFRONT_KEY = 'dev-storefront-key';
const SUPPORT_KEY = 'dev-order-support-key';
const CART_SERVICE = 'larder.order.v1.CartService';
const ORDER_SERVICE = 'larder.order.v1.OrderService';

const TABLES = ['orders', 'order_items', 'order_events', 'carts', 'cart_items', 'outbox', 'simulated_charges'] as const;

const chars = (n: number, c = 'a') => c.repeat(n);
const INT32_MAX = 2 ** 31 - 1;
const INT32_MIN = -(2 ** 31);

/** The scope each RPC needs, as the contract (cart_service.proto, order_service.proto) documents it. */
const CART_SCOPE_OF: Record<keyof typeof CartServiceService, string> = {
  getCart: 'carts',
  addCartItem: 'carts',
  updateCartItem: 'carts',
  removeCartItem: 'carts',
  clearCart: 'carts',
};
const ORDER_SCOPE_OF: Record<keyof typeof OrderServiceService, string> = {
  checkout: 'orders.write',
  createOrder: 'orders.write',
  getOrder: 'orders.read',
  listOrders: 'orders.read',
  cancelOrder: 'orders.write',
  updateOrder: 'orders.admin',
  deleteOrder: 'orders.admin',
  listOrderEvents: 'orders.read',
  watchOrder: 'orders.read',
};

/** The development keys (config.ts) and the scopes they hold. */
const KEYS: { name: string; key: string; scopes: string[] }[] = [
  { name: 'admin', key: ORDER_ADMIN_KEY, scopes: ['*'] },
  { name: 'storefront', key: STOREFRONT_KEY, scopes: ['carts', 'orders.read', 'orders.write'] },
  { name: 'support', key: SUPPORT_KEY, scopes: ['orders.read', 'orders.admin'] },
];

interface Api {
  carts: CartApi;
  orders: OrderApi;
}

interface Fixtures {
  /** Products in inventory with plenty of stock. */
  productId: string;
  otherProductId: string;
  /** A customer with two CONFIRMED orders and one line in the cart. */
  customerId: string;
  /** The customer's newest order, CONFIRMED, with a shipping address. */
  orderId: string;
  /** next_page_token of ListOrders(customer, page_size 1), no filters. */
  pageToken: string;
}

interface Case {
  name: string;
  call: (api: Api, f: Fixtures) => Promise<unknown>;
  /** The ErrorInfo metadata `field` the answer must name. */
  field: string;
}

const address = (overrides: Partial<ShippingAddress> = {}): ShippingAddress => ({
  recipient: 'Ada Lovelace',
  line1: 'Keizersgracht 1',
  line2: '',
  city: 'Amsterdam',
  postalCode: '1015 AA',
  countryCode: 'NL',
  ...overrides,
});

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

/** Every CartService and OrderService RPC, grouped by RPC. */
const matrix: Record<string, Case[]> = {
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
  GetOrder: [
    { name: 'missing id', field: 'id', call: (api) => api.orders.getOrder({}) },
    { name: 'malformed id', field: 'id', call: (api) => api.orders.getOrder({ id: 'nope' }) },
    { name: 'UUID with trailing junk', field: 'id', call: (api, f) => api.orders.getOrder({ id: `${f.orderId}x` }) },
    { name: 'UUID in braces', field: 'id', call: (api, f) => api.orders.getOrder({ id: `{${f.orderId}}`, showDeleted: true }) },
  ],
  ListOrders: [
    { name: 'missing customer_id', field: 'customer_id', call: (api) => api.orders.listOrders({}) },
    { name: 'malformed customer_id', field: 'customer_id', call: (api) => api.orders.listOrders({ customerId: 'bob' }) },
    { name: 'page_size -1', field: 'page_size', call: (api, f) => api.orders.listOrders({ customerId: f.customerId, pageSize: -1 }) },
    { name: 'page_size 1001', field: 'page_size', call: (api, f) => api.orders.listOrders({ customerId: f.customerId, pageSize: 1001 }) },
    {
      name: 'page_size 2^31-1',
      field: 'page_size',
      call: (api, f) => api.orders.listOrders({ customerId: f.customerId, pageSize: INT32_MAX }),
    },
    {
      name: 'page_size -2^31',
      field: 'page_size',
      call: (api, f) => api.orders.listOrders({ customerId: f.customerId, pageSize: INT32_MIN }),
    },
    {
      name: 'garbage page_token',
      field: 'page_token',
      call: (api, f) => api.orders.listOrders({ customerId: f.customerId, pageToken: 'garbage!!' }),
    },
    {
      name: 'base64 page_token that is not JSON',
      field: 'page_token',
      call: (api, f) => api.orders.listOrders({ customerId: f.customerId, pageToken: 'Zm9vYmFy' }),
    },
    {
      name: 'page_token of 2000 characters',
      field: 'page_token',
      call: (api, f) => api.orders.listOrders({ customerId: f.customerId, pageToken: chars(2000, 'A') }),
    },
    // Tokens are not signed: anyone can build one in the issued shape. Its key must still be checked before it reaches SQL.
    {
      name: 'forged page_token (right fingerprint) whose key is not a UUID',
      field: 'page_token',
      call: (api, f) =>
        api.orders.listOrders({
          customerId: f.customerId,
          pageToken: encodePageToken("' OR 1=1 --", { customerId: f.customerId, status: undefined, includeDeleted: false }),
        }),
    },
    {
      name: 'page_token reused with another status filter',
      field: 'page_token',
      call: (api, f) =>
        api.orders.listOrders({ customerId: f.customerId, pageToken: f.pageToken, status: OrderStatus.ORDER_STATUS_CONFIRMED }),
    },
    {
      name: 'page_token reused with show_deleted',
      field: 'page_token',
      call: (api, f) => api.orders.listOrders({ customerId: f.customerId, pageToken: f.pageToken, showDeleted: true }),
    },
    {
      name: 'page_token reused for another customer',
      field: 'page_token',
      call: (api, f) => api.orders.listOrders({ customerId: randomUUID(), pageToken: f.pageToken }),
    },
    {
      name: 'unknown status 99',
      field: 'status',
      call: (api, f) => api.orders.listOrders({ customerId: f.customerId, status: 99 as OrderStatus }),
    },
    {
      name: 'negative status -1',
      field: 'status',
      call: (api, f) => api.orders.listOrders({ customerId: f.customerId, status: -1 as OrderStatus }),
    },
  ],
  CancelOrder: [
    { name: 'missing id', field: 'id', call: (api) => api.orders.cancelOrder({ reason: 'changed my mind' }) },
    { name: 'malformed id', field: 'id', call: (api) => api.orders.cancelOrder({ id: 'order-1', reason: 'changed my mind' }) },
    { name: 'reason of 501 characters', field: 'reason', call: (api, f) => api.orders.cancelOrder({ id: f.orderId, reason: chars(501) }) },
    {
      name: 'reason with a control character',
      field: 'reason',
      call: (api, f) => api.orders.cancelOrder({ id: f.orderId, reason: 'changed\u0000my mind' }),
    },
  ],
  UpdateOrder: [
    { name: 'missing order', field: 'order', call: (api) => api.orders.updateOrder({ updateMask: ['status'] }) },
    {
      name: 'missing order.id',
      field: 'order.id',
      call: (api) => api.orders.updateOrder({ order: { status: OrderStatus.ORDER_STATUS_SHIPPED }, updateMask: ['status'] }),
    },
    {
      name: 'malformed order.id',
      field: 'order.id',
      call: (api) => api.orders.updateOrder({ order: { id: '42', status: OrderStatus.ORDER_STATUS_SHIPPED }, updateMask: ['status'] }),
    },
    {
      name: 'missing update_mask',
      field: 'update_mask',
      call: (api, f) => api.orders.updateOrder({ order: { id: f.orderId, status: OrderStatus.ORDER_STATUS_SHIPPED } }),
    },
    {
      name: 'empty update_mask',
      field: 'update_mask',
      call: (api, f) => api.orders.updateOrder({ order: { id: f.orderId, status: OrderStatus.ORDER_STATUS_SHIPPED }, updateMask: [] }),
    },
    {
      name: 'unknown mask path "total"',
      field: 'update_mask',
      call: (api, f) => api.orders.updateOrder({ order: { id: f.orderId }, updateMask: ['total'] }),
    },
    {
      name: 'output-only mask path "customer_id"',
      field: 'update_mask',
      call: (api, f) => api.orders.updateOrder({ order: { id: f.orderId, customerId: randomUUID() }, updateMask: ['customer_id'] }),
    },
    {
      name: 'camelCase mask path "shippingAddress"',
      field: 'update_mask',
      call: (api, f) =>
        api.orders.updateOrder({
          order: { id: f.orderId, shippingAddress: address({ city: 'Utrecht' }) },
          updateMask: ['shippingAddress'],
        }),
    },
    {
      name: 'a good path next to a bad one',
      field: 'update_mask',
      call: (api, f) =>
        api.orders.updateOrder({ order: { id: f.orderId, status: OrderStatus.ORDER_STATUS_SHIPPED }, updateMask: ['status', 'items'] }),
    },
    {
      name: 'status set to CONFIRMED',
      field: 'order.status',
      call: (api, f) =>
        api.orders.updateOrder({ order: { id: f.orderId, status: OrderStatus.ORDER_STATUS_CONFIRMED }, updateMask: ['status'] }),
    },
    {
      name: 'status set to CANCELLED',
      field: 'order.status',
      call: (api, f) =>
        api.orders.updateOrder({ order: { id: f.orderId, status: OrderStatus.ORDER_STATUS_CANCELLED }, updateMask: ['status'] }),
    },
    {
      name: 'status masked but unspecified',
      field: 'order.status',
      call: (api, f) => api.orders.updateOrder({ order: { id: f.orderId }, updateMask: ['status'] }),
    },
    {
      name: 'status set to unknown value 99',
      field: 'order.status',
      call: (api, f) => api.orders.updateOrder({ order: { id: f.orderId, status: 99 as OrderStatus }, updateMask: ['status'] }),
    },
    {
      name: 'etag that is not a number',
      field: 'order.etag',
      call: (api, f) =>
        api.orders.updateOrder({ order: { id: f.orderId, status: OrderStatus.ORDER_STATUS_SHIPPED, etag: 'abc' }, updateMask: ['status'] }),
    },
    {
      name: 'negative etag',
      field: 'order.etag',
      call: (api, f) =>
        api.orders.updateOrder({ order: { id: f.orderId, status: OrderStatus.ORDER_STATUS_SHIPPED, etag: '-1' }, updateMask: ['status'] }),
    },
    {
      name: 'etag too long for a version',
      field: 'order.etag',
      call: (api, f) =>
        api.orders.updateOrder({
          order: { id: f.orderId, status: OrderStatus.ORDER_STATUS_SHIPPED, etag: '1'.repeat(30) },
          updateMask: ['status'],
        }),
    },
    {
      name: 'masked shipping_address missing',
      field: 'order.shipping_address',
      call: (api, f) => api.orders.updateOrder({ order: { id: f.orderId }, updateMask: ['shipping_address'] }),
    },
    {
      name: 'masked shipping_address with country_code "nl"',
      field: 'order.shipping_address.country_code',
      call: (api, f) =>
        api.orders.updateOrder({
          order: { id: f.orderId, shippingAddress: address({ countryCode: 'nl' }) },
          updateMask: ['shipping_address'],
        }),
    },
    {
      name: 'masked shipping_address with a recipient of 201 characters',
      field: 'order.shipping_address.recipient',
      call: (api, f) =>
        api.orders.updateOrder({
          order: { id: f.orderId, shippingAddress: address({ recipient: chars(201) }) },
          updateMask: ['shipping_address'],
        }),
    },
  ],
  DeleteOrder: [
    { name: 'missing id', field: 'id', call: (api) => api.orders.deleteOrder({}) },
    { name: 'malformed id', field: 'id', call: (api, f) => api.orders.deleteOrder({ id: f.orderId.slice(1) }) },
  ],
  ListOrderEvents: [
    { name: 'missing order_id', field: 'order_id', call: (api) => api.orders.listOrderEvents({}) },
    { name: 'malformed order_id', field: 'order_id', call: (api) => api.orders.listOrderEvents({ orderId: 'order-1' }) },
  ],
};

const bearer = (key: string) => {
  const metadata = new Metadata();
  if (key) metadata.set('authorization', `Bearer ${key}`);
  return metadata;
};

/** Sends raw bytes as the request of a method; resolves with the error (null on success). */
function rawCall(address: string, path: string, bytes: Buffer, key = ORDER_ADMIN_KEY): Promise<ServiceError | null> {
  const client = new Client(address, credentials.createInsecure());
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      path,
      (b: Buffer) => b,
      (b: Buffer) => b,
      bytes,
      bearer(key),
      (error: ServiceError | null) => {
        client.close();
        resolve(error);
      },
    );
  });
}

interface WatchOutcome {
  /** 'OK' when the stream ended normally, else the status name, or 'TIMEOUT'. */
  code: string;
  error?: ServiceError;
  messages: WatchOrderResponse[];
  elapsedMs: number;
}

/** Opens WatchOrder as a real server stream; resolves when it ends, errors, or after timeoutMs (then cancelled). */
function watch(address: string, id: string, key: string, timeoutMs = 3_000): Promise<WatchOutcome> {
  const client = new Client(address, credentials.createInsecure());
  const method = OrderServiceService.watchOrder;
  const started = Date.now();
  const call = client.makeServerStreamRequest(
    method.path,
    method.requestSerialize,
    method.responseDeserialize,
    WatchOrderRequest.fromPartial({ id }),
    bearer(key),
    {},
  );
  const messages: WatchOrderResponse[] = [];
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: Omit<WatchOutcome, 'messages' | 'elapsedMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.close();
      resolve({ ...outcome, messages, elapsedMs: Date.now() - started });
    };
    const timer = setTimeout(() => {
      settle({ code: 'TIMEOUT' });
      call.cancel();
    }, timeoutMs);
    call.on('data', (message: WatchOrderResponse) => messages.push(message));
    call.on('error', (error: ServiceError) => settle({ code: Code[error.code]!, error }));
    call.on('end', () => settle({ code: 'OK' }));
  });
}

/** Sends one request on a reflection stream and returns the first answer. */
function reflect(client: ServerReflectionClient, request: Partial<ServerReflectionRequest>): Promise<ServerReflectionResponse> {
  return new Promise((resolve, reject) => {
    const stream = client.serverReflectionInfo();
    stream.once('data', (response: ServerReflectionResponse) => {
      stream.end();
      resolve(response);
    });
    stream.once('error', reject);
    stream.write({ host: '', ...request });
  });
}

type AnyCall = (request: object) => Promise<unknown>;
const rpcOf = (api: Api, rpc: string): AnyCall =>
  rpc in CART_SCOPE_OF ? (api.carts as unknown as Record<string, AnyCall>)[rpc]! : (api.orders as unknown as Record<string, AnyCall>)[rpc]!;

describe('order service: request validation, API keys and scopes (both services as processes)', function () {
  this.timeout(60_000);
  let system: TestSystem;
  let fixtures: Fixtures;
  const clients: { close(): void }[] = [];

  /** Cart and order clients sending `key` (none when empty). */
  const apiWith = (key: string): Api => {
    const api = {
      carts: createPromiseClient(CartServiceService, cartMessages, system.orderAddress, { defaults: { apiKey: key } }),
      orders: createPromiseClient(OrderServiceService, orderMessages, system.orderAddress, { defaults: { apiKey: key } }),
    };
    clients.push(api.carts, api.orders);
    return api;
  };

  before(async () => {
    system = await startSystem();
    const [product, other] = await Promise.all([createProduct(system, 500), createProduct(system, 500)]);
    const customerId = randomUUID();
    const ids: string[] = [];
    for (const key of ['fixture-1', 'fixture-2']) {
      const { order } = await system.orders.createOrder({
        customerId,
        items: [{ productId: product.id, quantity: 1 }],
        idempotencyKey: key,
        paymentToken: 'tok_ok',
        shippingAddress: address(),
      });
      ids.push(order!.id);
    }
    await Promise.all(ids.map((id) => waitForOrder(system, id, hasStatus(OrderStatus.ORDER_STATUS_CONFIRMED))));
    await system.carts.addCartItem({ customerId, productId: product.id, quantity: 2 });
    const page = await system.orders.listOrders({ customerId, pageSize: 1 });
    expect(page.nextPageToken).to.not.equal('');
    // The token is good: it pages on with the filters it was issued for.
    expect((await system.orders.listOrders({ customerId, pageSize: 1, pageToken: page.nextPageToken })).orders).to.have.length(1);
    fixtures = { productId: product.id, otherProductId: other.id, customerId, orderId: page.orders[0]!.id, pageToken: page.nextPageToken };
    expect(ids).to.include(fixtures.orderId);
  });
  after(async () => {
    for (const client of clients) client.close();
    await system?.stop();
  });

  describe('request validation', () => {
    let api: Api;
    let countsBefore: Record<string, number>;
    let orderBefore: unknown;
    let cartBefore: unknown;
    /** Every case's gRPC code, to check afterwards that none was UNKNOWN or INTERNAL. */
    const outcomes: { name: string; code: string }[] = [];

    const countRows = async () => {
      const counts: Record<string, number> = {};
      for (const table of TABLES) {
        counts[table] = Number((await system.orderDb.db(table).count<{ count: string }[]>('* as count'))[0]!.count);
      }
      return counts;
    };

    before(async () => {
      api = apiWith(ORDER_ADMIN_KEY);
      // The saga is done with the fixture orders (CONFIRMED waits for shipping); wait for the counts to hold still.
      let previous = '';
      for (let i = 0; i < 40; i++) {
        const now = JSON.stringify(await countRows());
        if (now === previous) break;
        previous = now;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      countsBefore = await countRows();
      orderBefore = (await system.orders.getOrder({ id: fixtures.orderId })).order;
      cartBefore = (await system.carts.getCart({ customerId: fixtures.customerId })).cart;
    });

    for (const [rpc, cases] of Object.entries(matrix)) {
      describe(rpc, () => {
        for (const testCase of cases) {
          it(`${testCase.name} → INVALID_ARGUMENT naming ${testCase.field}`, async () => {
            let error: ServiceError | undefined;
            try {
              await testCase.call(api, fixtures);
            } catch (caught) {
              error = caught as ServiceError;
            }
            outcomes.push({ name: `${rpc}: ${testCase.name}`, code: error ? Code[error.code]! : 'OK' });
            expect(error, `expected INVALID_ARGUMENT, but ${rpc} succeeded`).to.not.equal(undefined);
            expect(Code[error!.code], error!.details).to.equal('INVALID_ARGUMENT');
            const info = errorInfoOf(error!);
            expect(info, 'ErrorInfo in grpc-status-details-bin').to.not.equal(undefined);
            expect(info!.domain).to.equal('larder.dev');
            expect(info!.metadata.field, error!.details).to.equal(testCase.field);
            // The message names the field too, for humans reading logs.
            expect(error!.details).to.include(testCase.field);
          });
        }
      });
    }

    describe('WatchOrder', () => {
      for (const [name, id] of [
        ['missing id', ''],
        ['malformed id', 'not-a-uuid'],
      ] as const) {
        it(`${name} → the stream ends promptly with INVALID_ARGUMENT naming id`, async () => {
          const outcome = await watch(system.orderAddress, id, ORDER_ADMIN_KEY, 3_000);
          outcomes.push({ name: `WatchOrder: ${name}`, code: outcome.code });
          expect(outcome.code, outcome.error?.details ?? 'no status within 3 s').to.equal('INVALID_ARGUMENT');
          expect(outcome.messages).to.deep.equal([]);
          expect(errorInfoOf(outcome.error!)?.metadata.field).to.equal('id');
          expect(outcome.elapsedMs).to.be.below(3_000);
        });
      }
    });

    describe('undecodable requests', () => {
      const garbage: { name: string; path: string; bytes: Buffer }[] = [
        { name: 'an invalid wire type', path: `/${ORDER_SERVICE}/Checkout`, bytes: Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]) },
        { name: 'an invalid wire type', path: `/${CART_SERVICE}/AddCartItem`, bytes: Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]) },
        { name: 'a length past the end', path: `/${ORDER_SERVICE}/CreateOrder`, bytes: Buffer.from([0x0a, 0x7f, 0x41, 0x42]) },
        { name: 'a truncated varint', path: `/${CART_SERVICE}/UpdateCartItem`, bytes: Buffer.from([0x18, 0xff, 0xff]) },
      ];
      for (const { name, path, bytes } of garbage) {
        it(`${path} with ${name} → INVALID_ARGUMENT (MALFORMED_REQUEST), not INTERNAL or UNKNOWN`, async () => {
          const error = await rawCall(system.orderAddress, path, bytes);
          outcomes.push({ name: `${path}: raw bytes with ${name}`, code: error ? Code[error.code]! : 'OK' });
          expect(error, `${path} accepted undecodable bytes`).to.not.equal(null);
          expect(Code[error!.code], error!.details).to.equal('INVALID_ARGUMENT');
          expect(errorInfoOf(error!)?.reason).to.equal('MALFORMED_REQUEST');
        });
      }

      it('an empty message decodes to defaults and is refused by validation, not by the decoder', async () => {
        const error = await rawCall(system.orderAddress, `/${ORDER_SERVICE}/Checkout`, Buffer.alloc(0));
        outcomes.push({ name: 'Checkout: empty bytes', code: error ? Code[error.code]! : 'OK' });
        expect(error, 'Checkout accepted an empty request').to.not.equal(null);
        expect(Code[error!.code]).to.equal('INVALID_ARGUMENT');
        expect(errorInfoOf(error!)?.metadata.field).to.equal('customer_id');
      });
    });

    describe('afterwards', () => {
      it('no case was answered UNKNOWN or INTERNAL', () => {
        const total = Object.values(matrix).reduce((n, cases) => n + cases.length, 0);
        expect(outcomes.length).to.be.at.least(total);
        expect(outcomes.filter((o) => o.code === 'UNKNOWN' || o.code === 'INTERNAL')).to.deep.equal([]);
      });

      it('the order database did not change: same row counts, same order, same cart', async () => {
        expect(await countRows()).to.deep.equal(countsBefore);
        expect((await system.orders.getOrder({ id: fixtures.orderId })).order).to.deep.equal(orderBefore);
        expect((await system.carts.getCart({ customerId: fixtures.customerId })).cart).to.deep.equal(cartBefore);
      });

      it('the service still answers valid requests', async () => {
        const { orders } = await system.orders.listOrders({ customerId: fixtures.customerId, status: OrderStatus.ORDER_STATUS_CONFIRMED });
        expect(orders).to.have.length(2);
        const { cart } = await system.carts.getCart({ customerId: fixtures.customerId });
        expect(cart!.items).to.deep.equal([{ productId: fixtures.productId, quantity: 2 }]);
      });
    });
  });

  describe('API keys and scopes', () => {
    let anonymous: Api;
    let stranger: Api;
    let storefront: Api;
    let support: Api;

    const expectScopeMissing = async (call: Promise<unknown>, scope: string) => {
      const { reason, info } = await expectGrpcError(call, Code.PERMISSION_DENIED);
      expect(reason).to.equal('SCOPE_MISSING');
      expect(info!.metadata.scope).to.equal(scope);
    };

    before(() => {
      anonymous = apiWith('');
      stranger = apiWith('not-a-key-this-service-knows');
      storefront = apiWith(STOREFRONT_KEY);
      support = apiWith(SUPPORT_KEY);
    });

    describe('authentication', () => {
      it('refuses a call without authorization metadata: UNAUTHENTICATED, API_KEY_MISSING', async () => {
        const customerId = fixtures.customerId;
        expect((await expectGrpcError(anonymous.carts.getCart({ customerId }), Code.UNAUTHENTICATED)).reason).to.equal('API_KEY_MISSING');
        expect((await expectGrpcError(anonymous.orders.listOrders({ customerId }), Code.UNAUTHENTICATED)).reason).to.equal(
          'API_KEY_MISSING',
        );
      });

      it('refuses an unknown key: UNAUTHENTICATED, API_KEY_INVALID, without echoing the key', async () => {
        const { reason, error } = await expectGrpcError(stranger.orders.getOrder({ id: fixtures.orderId }), Code.UNAUTHENTICATED);
        expect(reason).to.equal('API_KEY_INVALID');
        expect(error.details).to.not.include('not-a-key-this-service-knows');
        expect((await expectGrpcError(stranger.carts.getCart({ customerId: fixtures.customerId }), Code.UNAUTHENTICATED)).reason).to.equal(
          'API_KEY_INVALID',
        );
      });

      it('refuses a key of the inventory service', async () => {
        const inventoryKey = apiWith('dev-inventory-admin-key');
        expect((await expectGrpcError(inventoryKey.orders.getOrder({ id: fixtures.orderId }), Code.UNAUTHENTICATED)).reason).to.equal(
          'API_KEY_INVALID',
        );
      });

      it('without a key, WatchOrder is UNAUTHENTICATED and sends nothing', async () => {
        const outcome = await watch(system.orderAddress, fixtures.orderId, '');
        expect(outcome.code).to.equal('UNAUTHENTICATED');
        expect(outcome.messages).to.deep.equal([]);
      });

      it('checks the key before decoding: undecodable bytes without a key are UNAUTHENTICATED', async () => {
        const error = await rawCall(system.orderAddress, `/${ORDER_SERVICE}/Checkout`, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]), '');
        expect(error && Code[error.code]).to.equal('UNAUTHENTICATED');
      });
    });

    describe('storefront key (carts, orders.read, orders.write)', () => {
      it('uses its cart, checks out, reads, lists and cancels its order', async () => {
        const customerId = randomUUID();
        const { productId, otherProductId } = fixtures;
        await storefront.carts.addCartItem({ customerId, productId, quantity: 2 });
        await storefront.carts.addCartItem({ customerId, productId: otherProductId, quantity: 1 });
        await storefront.carts.updateCartItem({ customerId, productId, quantity: 3 });
        await storefront.carts.removeCartItem({ customerId, productId: otherProductId });
        expect((await storefront.carts.getCart({ customerId })).cart!.items).to.deep.equal([{ productId, quantity: 3 }]);
        const { order } = await storefront.orders.checkout({ customerId, idempotencyKey: 'storefront-1', paymentToken: 'tok_ok' });
        expect(order!.customerId).to.equal(customerId);
        expect((await storefront.orders.getOrder({ id: order!.id })).order!.id).to.equal(order!.id);
        expect((await storefront.orders.listOrders({ customerId })).orders.map((o) => o.id)).to.deep.equal([order!.id]);
        expect((await storefront.orders.listOrderEvents({ orderId: order!.id })).events.length).to.be.greaterThan(0);
        const { order: cancelled } = await storefront.orders.cancelOrder({ id: order!.id, reason: 'storefront test' });
        expect(
          cancelled!.status === OrderStatus.ORDER_STATUS_CANCELLED || cancelled!.cancelRequested,
          OrderStatus[cancelled!.status],
        ).to.equal(true);
        await storefront.carts.addCartItem({ customerId, productId, quantity: 1 });
        expect((await storefront.carts.clearCart({ customerId })).cart!.items).to.deep.equal([]);
      });

      it('may not UpdateOrder or DeleteOrder (PERMISSION_DENIED, SCOPE_MISSING), and changes nothing', async () => {
        const before = (await system.orders.getOrder({ id: fixtures.orderId })).order!;
        await expectScopeMissing(
          storefront.orders.updateOrder({
            order: { id: fixtures.orderId, status: OrderStatus.ORDER_STATUS_SHIPPED },
            updateMask: ['status'],
          }),
          'orders.admin',
        );
        await expectScopeMissing(storefront.orders.deleteOrder({ id: fixtures.orderId }), 'orders.admin');
        const after = (await system.orders.getOrder({ id: fixtures.orderId })).order!;
        expect(after.etag).to.equal(before.etag);
        expect(after.status).to.equal(OrderStatus.ORDER_STATUS_CONFIRMED);
        expect(after.deleteTime).to.equal(undefined);
      });

      it('is refused for lack of scope even when the request is also invalid (scope before validation)', async () => {
        await expectScopeMissing(storefront.orders.updateOrder({}), 'orders.admin');
        await expectScopeMissing(storefront.orders.deleteOrder({ id: 'nope' }), 'orders.admin');
      });
    });

    describe('support key (orders.read, orders.admin)', () => {
      it('reads orders and moves one forward with UpdateOrder', async () => {
        const { order } = await support.orders.getOrder({ id: fixtures.orderId });
        expect(order!.status).to.equal(OrderStatus.ORDER_STATUS_CONFIRMED);
        await support.orders.listOrders({ customerId: fixtures.customerId });
        const { order: updated } = await support.orders.updateOrder({
          order: { id: fixtures.orderId, shippingAddress: address({ city: 'Utrecht' }), etag: order!.etag },
          updateMask: ['shipping_address'],
        });
        expect(updated!.shippingAddress!.city).to.equal('Utrecht');
        const { order: shipped } = await support.orders.updateOrder({
          order: { id: fixtures.orderId, status: OrderStatus.ORDER_STATUS_SHIPPED },
          updateMask: ['status'],
        });
        expect(shipped!.status).to.equal(OrderStatus.ORDER_STATUS_SHIPPED);
      });

      it('may not AddCartItem or Checkout (PERMISSION_DENIED, SCOPE_MISSING), and changes nothing', async () => {
        const customerId = fixtures.customerId;
        const cartBefore = (await system.carts.getCart({ customerId })).cart;
        const ordersBefore = (await system.orders.listOrders({ customerId })).orders.length;
        await expectScopeMissing(support.carts.addCartItem({ customerId, productId: fixtures.productId, quantity: 1 }), 'carts');
        await expectScopeMissing(
          support.orders.checkout({ customerId, idempotencyKey: `support-${randomUUID()}`, paymentToken: 'tok_ok' }),
          'orders.write',
        );
        expect((await system.carts.getCart({ customerId })).cart).to.deep.equal(cartBefore);
        expect((await system.orders.listOrders({ customerId })).orders).to.have.length(ordersBefore);
      });
    });

    describe("admin key ('*')", () => {
      it('can call every RPC', async () => {
        const admin = apiWith(ORDER_ADMIN_KEY);
        const customerId = randomUUID();
        const { productId, otherProductId } = fixtures;
        await admin.carts.getCart({ customerId });
        await admin.carts.addCartItem({ customerId, productId, quantity: 1 });
        await admin.carts.addCartItem({ customerId, productId: otherProductId, quantity: 1 });
        await admin.carts.updateCartItem({ customerId, productId, quantity: 2 });
        await admin.carts.removeCartItem({ customerId, productId: otherProductId });
        const { order: fromCart } = await admin.orders.checkout({
          customerId,
          idempotencyKey: 'admin-cart',
          paymentToken: 'tok_ok',
          shippingAddress: address(),
        });
        await admin.carts.addCartItem({ customerId, productId, quantity: 1 });
        await admin.carts.clearCart({ customerId });
        const { order: explicit } = await admin.orders.createOrder({
          customerId,
          items: [{ productId: otherProductId, quantity: 1 }],
          idempotencyKey: 'admin-items',
          paymentToken: 'tok_ok',
        });
        await admin.orders.cancelOrder({ id: explicit!.id, reason: 'admin test' });
        await waitForOrder(system, fromCart!.id, hasStatus(OrderStatus.ORDER_STATUS_CONFIRMED));
        await admin.orders.updateOrder({ order: { id: fromCart!.id, status: OrderStatus.ORDER_STATUS_SHIPPED }, updateMask: ['status'] });
        await admin.orders.updateOrder({ order: { id: fromCart!.id, status: OrderStatus.ORDER_STATUS_DELIVERED }, updateMask: ['status'] });
        const watched = await watch(system.orderAddress, fromCart!.id, ORDER_ADMIN_KEY);
        expect(watched.code).to.equal('OK');
        expect(watched.messages.map((m) => m.order!.status)).to.deep.equal([OrderStatus.ORDER_STATUS_DELIVERED]);
        const { order: deleted } = await admin.orders.deleteOrder({ id: fromCart!.id });
        expect(deleted!.deleteTime).to.not.equal(undefined);
        await admin.orders.getOrder({ id: fromCart!.id, showDeleted: true });
        expect((await admin.orders.listOrders({ customerId, showDeleted: true })).orders).to.have.length(2);
        expect((await admin.orders.listOrderEvents({ orderId: fromCart!.id })).events.length).to.be.greaterThan(3);
      });
    });

    describe('every RPC × every key', () => {
      const unary = [...Object.keys(CART_SCOPE_OF), ...Object.keys(ORDER_SCOPE_OF).filter((rpc) => rpc !== 'watchOrder')];
      const scopeOf = (rpc: string) => ({ ...CART_SCOPE_OF, ...ORDER_SCOPE_OF })[rpc as keyof typeof CART_SCOPE_OF]!;

      it('covers every RPC of both services', () => {
        expect(Object.keys(CART_SCOPE_OF).sort()).to.deep.equal(Object.keys(CartServiceService).sort());
        expect(Object.keys(ORDER_SCOPE_OF).sort()).to.deep.equal(Object.keys(OrderServiceService).sort());
      });

      it('without a key or with an unknown one, every RPC is UNAUTHENTICATED', async () => {
        for (const api of [anonymous, stranger]) {
          const outcomes = await Promise.all(unary.map(async (rpc) => [rpc, await outcomeOf(rpcOf(api, rpc)({}))] as const));
          expect(Object.fromEntries(outcomes)).to.deep.equal(Object.fromEntries(unary.map((rpc) => [rpc, 'UNAUTHENTICATED'])));
        }
      });

      for (const { name, key, scopes } of KEYS) {
        it(`${name}: PERMISSION_DENIED exactly for the RPCs outside ${scopes.join(', ')}`, async () => {
          const api = apiWith(key);
          // An empty request: refused by validation when the scope is held, refused by auth when not.
          const outcomes = await Promise.all(unary.map(async (rpc) => [rpc, await outcomeOf(rpcOf(api, rpc)({}))] as const));
          const allowed = (rpc: string) => scopes.includes('*') || scopes.includes(scopeOf(rpc));
          const denied = outcomes.filter(([, outcome]) => outcome === 'PERMISSION_DENIED').map(([rpc]) => rpc);
          expect(denied.sort()).to.deep.equal(unary.filter((rpc) => !allowed(rpc)).sort());
          for (const [rpc, outcome] of outcomes) {
            if (allowed(rpc)) expect(outcome, rpc).to.equal('INVALID_ARGUMENT');
          }
          const watched = await watch(system.orderAddress, '', key);
          expect(watched.code, 'WatchOrder').to.equal(allowed('watchOrder') ? 'INVALID_ARGUMENT' : 'PERMISSION_DENIED');
        });
      }
    });

    describe('health and reflection need no key', () => {
      let health: HealthClient;
      let reflection: ServerReflectionClient;

      before(() => {
        health = new HealthClient(system.orderAddress, credentials.createInsecure());
        reflection = new ServerReflectionClient(system.orderAddress, credentials.createInsecure());
      });
      after(() => {
        health?.close();
        reflection?.close();
      });

      const check = (service: string) =>
        new Promise<Serving>((resolve, reject) =>
          health.check({ service }, (error, response) => (error ? reject(error) : resolve(response.status))),
        );

      it('Health/Check answers SERVING for the server ("") and for the order and cart services', async () => {
        expect(Serving[await check('')]).to.equal('SERVING');
        expect(Serving[await check(ORDER_SERVICE)]).to.equal('SERVING');
        expect(Serving[await check(CART_SERVICE)]).to.equal('SERVING');
      });

      it('Health/Check answers NOT_FOUND for a service the server does not run', async () => {
        await expectGrpcError(check('larder.nothing.v1.Nothing'), Code.NOT_FOUND);
      });

      it('reflection lists the cart, order, health and reflection services', async () => {
        const response = await reflect(reflection, { listServices: '' });
        const names = response.listServicesResponse!.service.map((s) => s.name);
        expect(names).to.include.members([CART_SERVICE, ORDER_SERVICE, 'grpc.health.v1.Health']);
      });

      it('reflection returns the descriptors of the order service', async () => {
        const response = await reflect(reflection, { fileContainingSymbol: ORDER_SERVICE });
        expect(response.errorResponse).to.equal(undefined);
        const all = Buffer.concat(response.fileDescriptorResponse!.fileDescriptorProto.map((bytes) => Buffer.from(bytes)));
        expect(all.includes('larder/order/v1/order_service.proto')).to.equal(true);
        expect(all.includes('idempotency_key')).to.equal(true);
      });
    });
  });
});
