import type { CartServiceService } from '#libs/contracts/larder/order/v1/cart_service.js';
import type { OrderServiceService } from '#libs/contracts/larder/order/v1/order_service.js';
import type { RpcTable } from '#libs/grpc/rpc-table.js';
import type { OrderDeps } from '../domain/deps.js';

/** API-key scopes of the order service. */
export const ORDER_SCOPES = ['carts', 'orders.read', 'orders.write', 'orders.admin'] as const;
export type OrderScope = (typeof ORDER_SCOPES)[number];

/**
 * The scopes an end-user token's `scope` claim can grant: a customer's own.
 * Any other scope it names (orders.admin, another service's) grants nothing,
 * so UpdateOrder and DeleteOrder stay with API keys.
 */
export const CUSTOMER_SCOPES: readonly string[] = ['carts', 'orders.read', 'orders.write'];

/** Every CartService RPC declared: scope, errors, handler (transport/carts.ts). */
export type CartRpcTable = RpcTable<typeof CartServiceService, OrderDeps, OrderScope>;
/** Every OrderService RPC declared: scope, errors, handler (transport/orders.ts). */
export type OrderRpcTable = RpcTable<typeof OrderServiceService, OrderDeps, OrderScope>;
