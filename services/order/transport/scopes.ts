import type { CartServiceService } from '#libs/contracts/larder/order/v1/cart_service.js';
import type { OrderServiceService } from '#libs/contracts/larder/order/v1/order_service.js';
import type { Scopes } from '#libs/grpc/server.js';

/** API-key scopes of the order service. */
export const ORDER_SCOPES = ['carts', 'orders.read', 'orders.write', 'orders.admin'] as const;

/**
 * The scopes an end-user token's `scope` claim can grant: a customer's own.
 * Any other scope it names (orders.admin, another service's) grants nothing,
 * so UpdateOrder and DeleteOrder stay with API keys.
 */
export const CUSTOMER_SCOPES: readonly string[] = ['carts', 'orders.read', 'orders.write'];

export const cartScopes: Scopes<typeof CartServiceService> = {
  getCart: 'carts',
  addCartItem: 'carts',
  updateCartItem: 'carts',
  removeCartItem: 'carts',
  clearCart: 'carts',
};

export const orderScopes: Scopes<typeof OrderServiceService> = {
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
