import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { OrderStatus } from '#libs/contracts/larder/order/v1/resources.js';
import { errorInfoOf } from '#libs/grpc/status.js';
import { encodePageToken } from '#libs/validation/page-token.js';
import { chars, INT32_MAX, INT32_MIN } from '#test/support/request-validation.js';
import { ORDER_ADMIN_KEY } from '../system.js';
import { address, describeRequestValidation, watch, type Matrix } from './harness.js';

/**
 * Request validation of reading and managing orders: GetOrder, ListOrders,
 * CancelOrder, UpdateOrder, DeleteOrder, ListOrderEvents and WatchOrder. The
 * system, its fixtures and the checks after the cases are in harness.ts.
 */

const matrix: Matrix = {
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

describeRequestValidation('orders', matrix, (context) => {
  describe('WatchOrder', () => {
    for (const [name, id] of [
      ['missing id', ''],
      ['malformed id', 'not-a-uuid'],
    ] as const) {
      it(`${name} → the stream ends promptly with INVALID_ARGUMENT naming id`, async () => {
        const outcome = await watch(context.system.orderAddress, id, ORDER_ADMIN_KEY, 3_000);
        context.outcomes.push({ name: `WatchOrder: ${name}`, code: outcome.code });
        expect(outcome.code, outcome.error?.details ?? 'no status within 3 s').to.equal('INVALID_ARGUMENT');
        expect(outcome.messages).to.deep.equal([]);
        expect(errorInfoOf(outcome.error!)?.metadata.field).to.equal('id');
        expect(outcome.elapsedMs).to.be.below(3_000);
      });
    }
  });
});
