import type { CartServiceService } from '#libs/contracts/larder/order/v1/cart_service.js';
import type { OrderServiceService } from '#libs/contracts/larder/order/v1/order_service.js';
import { rpcError, type RpcErrors } from '#libs/grpc/rpc-errors.js';

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
const cartFull = rpcError('FAILED_PRECONDITION', 'CART_FULL', 'the cart already holds the most products it may');

/** The errors each cart RPC returns besides COMMON_RPC_ERRORS (for docs/api.md). */
export const cartRpcErrors: RpcErrors<typeof CartServiceService> = {
  getCart: [],
  addCartItem: [productNotFound, cartFull, insufficientStock, inventoryUnavailable],
  updateCartItem: [productNotFound, cartFull, insufficientStock, inventoryUnavailable],
  removeCartItem: [],
  clearCart: [],
};

/** The errors each order RPC returns besides COMMON_RPC_ERRORS (for docs/api.md). */
export const orderRpcErrors: RpcErrors<typeof OrderServiceService> = {
  checkout: [rpcError('FAILED_PRECONDITION', 'CART_EMPTY', 'the cart is empty'), keyReused],
  createOrder: [keyReused],
  getOrder: [orderNotFound],
  listOrders: [],
  cancelOrder: [orderNotFound, illegalTransition],
  updateOrder: [
    orderNotFound,
    illegalTransition,
    rpcError('FAILED_PRECONDITION', 'ORDER_SHIPPED', 'the address cannot change once shipped'),
    etagMismatch,
  ],
  deleteOrder: [
    orderNotFound,
    rpcError('FAILED_PRECONDITION', 'ORDER_IN_PROGRESS', 'only delivered, cancelled or failed orders can be deleted'),
  ],
  listOrderEvents: [orderNotFound],
  watchOrder: [orderNotFound],
};
