import type { CartServiceService } from '#libs/contracts/larder/order/v1/cart_service.js';
import type { OrderServiceService } from '#libs/contracts/larder/order/v1/order_service.js';
import { COMMON_RPC_ERRORS, rpcError, TOKEN_RPC_ERRORS, type RpcError, type RpcErrors } from '#libs/grpc/rpc-errors.js';

const orderNotFound = rpcError('NOT_FOUND', 'ORDER_NOT_FOUND', 'no order has this id');
const keyReused = rpcError('ALREADY_EXISTS', 'IDEMPOTENCY_KEY_REUSED', 'the idempotency key was used before for a different order');
const illegalTransition = rpcError(
  'FAILED_PRECONDITION',
  'ILLEGAL_ORDER_TRANSITION',
  'the order cannot move from its status to the one asked',
);
const etagMismatch = rpcError('ABORTED', 'ETAG_MISMATCH', 'the order changed since it was read; read it again');
const productNotFound = rpcError('NOT_FOUND', 'PRODUCT_NOT_FOUND', 'inventory has no such product');
const inventoryUnavailable = rpcError('UNAVAILABLE', 'INVENTORY_UNAVAILABLE', 'the stock cannot be checked now; retry later');
const insufficientStock = rpcError('FAILED_PRECONDITION', 'INSUFFICIENT_STOCK', 'the cart would hold more than is available');
/** A token naming another customer than its own (customer_id of another). */
const customerMismatch = rpcError('PERMISSION_DENIED', 'CUSTOMER_MISMATCH', "a customer token names another customer's customer_id");
const cartFull = rpcError('FAILED_PRECONDITION', 'CART_FULL', 'the cart already holds the most products it may');

/** Every order-service RPC: the common errors, and those of customer tokens. */
export const ORDER_COMMON_RPC_ERRORS: readonly RpcError[] = [
  ...COMMON_RPC_ERRORS,
  ...TOKEN_RPC_ERRORS,
  rpcError('UNAUTHENTICATED', 'TOKEN_SUBJECT_INVALID', 'the token\'s "sub" is not a customer id (a UUID)'),
];

/** The errors each cart RPC returns besides COMMON_RPC_ERRORS (for docs/api.md). */
export const cartRpcErrors: RpcErrors<typeof CartServiceService> = {
  getCart: [customerMismatch],
  addCartItem: [customerMismatch, productNotFound, cartFull, insufficientStock, inventoryUnavailable],
  updateCartItem: [customerMismatch, productNotFound, cartFull, insufficientStock, inventoryUnavailable],
  removeCartItem: [customerMismatch],
  clearCart: [customerMismatch],
};

/** The errors each order RPC returns besides COMMON_RPC_ERRORS (for docs/api.md). */
export const orderRpcErrors: RpcErrors<typeof OrderServiceService> = {
  checkout: [customerMismatch, rpcError('FAILED_PRECONDITION', 'CART_EMPTY', 'the cart is empty'), keyReused],
  createOrder: [customerMismatch, keyReused],
  getOrder: [orderNotFound],
  listOrders: [customerMismatch],
  cancelOrder: [orderNotFound, illegalTransition],
  updateOrder: [
    orderNotFound,
    illegalTransition,
    rpcError('FAILED_PRECONDITION', 'ORDER_SHIPPED', 'the address cannot change once shipped'),
    rpcError('FAILED_PRECONDITION', 'ORDER_ENDED', 'the address cannot change once the order is cancelled or failed'),
    etagMismatch,
  ],
  deleteOrder: [
    orderNotFound,
    rpcError('FAILED_PRECONDITION', 'ORDER_IN_PROGRESS', 'only delivered, cancelled or failed orders can be deleted'),
  ],
  listOrderEvents: [orderNotFound],
  watchOrder: [orderNotFound],
};
