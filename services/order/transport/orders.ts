import type { CheckoutRequest, CreateOrderRequest } from '#libs/contracts/larder/order/v1/order_service.js';
import { OrderStatus as OrderStatusMessage } from '#libs/contracts/larder/order/v1/resources.js';
import { AppError, invalid } from '#libs/errors/app-error.js';
import { rpcError } from '#libs/grpc/rpc-errors.js';
import type { CallContext } from '#libs/grpc/call-context.js';
import * as v from '#libs/validation/fields.js';
import { decodePageToken, encodePageToken } from '#libs/validation/page-token.js';
import { orderStatusFromMessage, toOrderEventMessage, toOrderMessage } from '../contract/to-proto.js';
import { cancelOrder } from '../domain/cancel-order.js';
import type { OrderDeps } from '../domain/deps.js';
import { deleteOrder } from '../domain/delete-order.js';
import { getOrder, listOrderPage, orderLog } from '../domain/read-orders.js';
import { updateOrder } from '../domain/update-order.js';
import { deliveryWithAddress, placeOrder, type PlaceOrderCommand } from '../domain/place-order.js';
import { fulfilment, idempotencyKey, orderItems, paymentToken, shippingAddress } from './order-fields.js';
import { actingCustomer } from './customer.js';
import { customerMismatch, orderNotFound } from './rpc-errors.js';
import type { OrderRpcTable } from './scopes.js';
import { watchOrder } from './watch-order.js';

const keyReused = rpcError('ALREADY_EXISTS', 'IDEMPOTENCY_KEY_REUSED', 'the idempotency key was used before for a different order');
const illegalTransition = rpcError(
  'FAILED_PRECONDITION',
  'ILLEGAL_ORDER_TRANSITION',
  'the order cannot move from its status to the one asked',
);

/**
 * What Checkout and CreateOrder both carry, validated in field order: whose
 * order, its key, payment, address and fulfilment. A delivery brings its own
 * address, so a shipping_address beside it is refused (naming shipping_address).
 */
function placement(ctx: CallContext, request: CheckoutRequest | CreateOrderRequest) {
  const placed = {
    customerId: actingCustomer(ctx, 'customer_id', request.customerId),
    idempotencyKey: idempotencyKey(request.idempotencyKey),
    paymentToken: paymentToken(request.paymentToken),
    shippingAddress: shippingAddress('shipping_address', request.shippingAddress),
    fulfilment: fulfilment('fulfilment', request.fulfilment),
  };
  if (placed.shippingAddress && placed.fulfilment?.kind === 'delivery') throw deliveryWithAddress();
  return placed;
}

/** Places the order and counts the outcome: the status it was left in, or why it was refused. */
async function placeCounted(deps: OrderDeps, ctx: CallContext, command: PlaceOrderCommand) {
  try {
    const order = await placeOrder(deps, ctx, command);
    deps.observer?.checkout(order.status.toLowerCase());
    return order;
  } catch (error) {
    deps.observer?.checkout(error instanceof AppError ? error.reason.toLowerCase() : 'error');
    throw error;
  }
}

/** Every OrderService RPC, declared (WatchOrder's is in watch-order.ts). */
export const orderRpcs: OrderRpcTable = {
  checkout: {
    scope: 'orders.write',
    errors: [customerMismatch, rpcError('FAILED_PRECONDITION', 'CART_EMPTY', 'the cart is empty'), keyReused],
    async handle(deps, request, ctx) {
      const order = await placeCounted(deps, ctx, {
        ...placement(ctx, request),
        source: { kind: 'cart' },
      });
      return { order: toOrderMessage(order) };
    },
  },

  createOrder: {
    scope: 'orders.write',
    errors: [customerMismatch, keyReused],
    async handle(deps, request, ctx) {
      const order = await placeCounted(deps, ctx, {
        ...placement(ctx, request),
        source: { kind: 'items', items: orderItems(request.items) },
      });
      return { order: toOrderMessage(order) };
    },
  },

  getOrder: {
    scope: 'orders.read',
    errors: [orderNotFound],
    async handle(deps, request, ctx) {
      const order = await getOrder(deps, v.requireUuid('id', request.id), { includeDeleted: request.showDeleted, owner: ctx.subject });
      return { order: toOrderMessage(order) };
    },
  },

  listOrders: {
    scope: 'orders.read',
    errors: [customerMismatch],
    async handle(deps, request, ctx) {
      const customerId = actingCustomer(ctx, 'customer_id', request.customerId);
      let status;
      if (request.status !== OrderStatusMessage.ORDER_STATUS_UNSPECIFIED && request.status !== undefined) {
        status = orderStatusFromMessage(request.status);
        if (!status) throw invalid('status', `unknown value ${request.status}`);
      }
      const pageSize = v.pageSize('page_size', request.pageSize);
      const filter = { customerId, status, includeDeleted: request.showDeleted };
      const beforeId = decodePageToken('page_token', request.pageToken, filter);
      if (beforeId !== undefined) v.requireUuid('page_token', beforeId);
      const page = await listOrderPage(deps, filter, beforeId, pageSize);
      return {
        orders: page.orders.map(toOrderMessage),
        nextPageToken: page.nextBeforeId ? encodePageToken(page.nextBeforeId, filter) : '',
      };
    },
  },

  cancelOrder: {
    scope: 'orders.write',
    errors: [orderNotFound, illegalTransition],
    async handle(deps, request, ctx) {
      const id = v.requireUuid('id', request.id);
      const reason = v.text('reason', request.reason, { max: 500 });
      return { order: toOrderMessage(await cancelOrder(deps, ctx, id, reason, ctx.subject)) };
    },
  },

  updateOrder: {
    scope: 'orders.admin',
    errors: [
      orderNotFound,
      illegalTransition,
      rpcError('FAILED_PRECONDITION', 'ORDER_SHIPPED', 'the address cannot change once shipped'),
      rpcError('FAILED_PRECONDITION', 'ORDER_ENDED', 'the address cannot change once the order is cancelled or failed'),
      rpcError('ABORTED', 'ETAG_MISMATCH', 'the order changed since it was read; read it again'),
    ],
    async handle(deps, request, ctx) {
      const order = request.order;
      if (!order) throw invalid('order', 'is required');
      const id = v.requireUuid('order.id', order.id);
      const paths = v.maskPaths('update_mask', request.updateMask, ['shipping_address', 'status']);
      let status;
      if (paths.includes('status')) {
        status = orderStatusFromMessage(order.status);
        if (status !== 'SHIPPED' && status !== 'DELIVERED')
          throw invalid('order.status', 'may only be set to ORDER_STATUS_SHIPPED or ORDER_STATUS_DELIVERED');
      }
      let expectedVersion;
      if (order.etag) {
        if (!/^\d{1,9}$/.test(order.etag)) throw invalid('order.etag', 'is not an etag this server issued');
        expectedVersion = Number(order.etag);
      }
      const updated = await updateOrder(deps, ctx, {
        id,
        expectedVersion,
        status,
        shippingAddress: paths.includes('shipping_address')
          ? shippingAddress('order.shipping_address', order.shippingAddress, true)
          : undefined,
      });
      return { order: toOrderMessage(updated) };
    },
  },

  deleteOrder: {
    scope: 'orders.admin',
    errors: [
      orderNotFound,
      rpcError('FAILED_PRECONDITION', 'ORDER_IN_PROGRESS', 'only delivered, cancelled or failed orders can be deleted'),
    ],
    async handle(deps, request, ctx) {
      return { order: toOrderMessage(await deleteOrder(deps, ctx, v.requireUuid('id', request.id))) };
    },
  },

  listOrderEvents: {
    scope: 'orders.read',
    errors: [orderNotFound],
    async handle(deps, request, ctx) {
      const events = await orderLog(deps, v.requireUuid('order_id', request.orderId), ctx.subject);
      return { events: events.map(toOrderEventMessage) };
    },
  },

  watchOrder,
};
