import type { AddCartItemRequest, UpdateCartItemRequest } from '#libs/contracts/larder/order/v1/cart_service.js';
import type { CallContext } from '#libs/grpc/call-context.js';
import { rpcError } from '#libs/grpc/rpc-errors.js';
import * as v from '#libs/validation/fields.js';
import { toCartMessage } from '../contract/to-proto-cart.js';
import { addCartItem } from '../domain/carts/add-cart-item.js';
import { MAX_LINE_QUANTITY } from '../domain/carts/cart-rules.js';
import { clearCart } from '../domain/carts/clear-cart.js';
import { getCart } from '../domain/carts/get-cart.js';
import { removeCartItem } from '../domain/carts/remove-cart-item.js';
import { setCartFulfilment } from '../domain/carts/set-cart-fulfilment.js';
import { updateCartItem } from '../domain/carts/update-cart-item.js';
import { actingCustomer } from './customer.js';
import { fulfilment } from './order-fields.js';
import { customerMismatch } from './rpc-errors.js';
import type { CartRpcTable } from './scopes.js';

/** AddCartItem's and UpdateCartItem's request: whose cart, which product, how many (from `min`). */
const cartLine = (ctx: CallContext, request: AddCartItemRequest | UpdateCartItemRequest, min: number) => ({
  customerId: actingCustomer(ctx, 'customer_id', request.customerId),
  productId: v.requireUuid('product_id', request.productId),
  quantity: v.integer('quantity', request.quantity, { min, max: MAX_LINE_QUANTITY }),
});

/** AddCartItem's and UpdateCartItem's errors: the customer check, then inventory's answer about the product. */
const stockChecked = [
  customerMismatch,
  rpcError('NOT_FOUND', 'PRODUCT_NOT_FOUND', 'inventory has no such product'),
  rpcError('FAILED_PRECONDITION', 'CART_FULL', 'the cart already holds the most products it may'),
  rpcError('FAILED_PRECONDITION', 'INSUFFICIENT_STOCK', 'the cart would hold more than is available'),
  rpcError('UNAVAILABLE', 'INVENTORY_UNAVAILABLE', 'the stock cannot be checked now; retry later'),
];

/** Every CartService RPC, declared: a customer's token reaches only its own cart. */
export const cartRpcs: CartRpcTable = {
  getCart: {
    scope: 'carts',
    errors: [customerMismatch],
    async handle(deps, request, ctx) {
      return { cart: toCartMessage(await getCart(deps, actingCustomer(ctx, 'customer_id', request.customerId))) };
    },
  },

  addCartItem: {
    scope: 'carts',
    errors: stockChecked,
    async handle(deps, request, ctx) {
      const command = cartLine(ctx, request, 1);
      return { cart: toCartMessage(await addCartItem(deps, ctx, command)) };
    },
  },

  updateCartItem: {
    scope: 'carts',
    errors: stockChecked,
    async handle(deps, request, ctx) {
      const command = cartLine(ctx, request, 0);
      return { cart: toCartMessage(await updateCartItem(deps, ctx, command)) };
    },
  },

  removeCartItem: {
    scope: 'carts',
    errors: [customerMismatch],
    async handle(deps, request, ctx) {
      const customerId = actingCustomer(ctx, 'customer_id', request.customerId);
      const productId = v.requireUuid('product_id', request.productId);
      return { cart: toCartMessage(await removeCartItem(deps, customerId, productId)) };
    },
  },

  setCartFulfilment: {
    scope: 'carts',
    errors: [
      customerMismatch,
      rpcError('NOT_FOUND', 'LOCATION_NOT_FOUND', 'inventory has no such pickup location (or it was deleted)'),
      rpcError('FAILED_PRECONDITION', 'LOCATION_INACTIVE', 'the pickup location is deactivated'),
      rpcError('FAILED_PRECONDITION', 'PICKUP_NOT_OFFERED', 'the location does not offer pickup'),
      rpcError('UNAVAILABLE', 'INVENTORY_UNAVAILABLE', 'the location cannot be checked now; retry later'),
    ],
    async handle(deps, request, ctx) {
      const customerId = actingCustomer(ctx, 'customer_id', request.customerId);
      const wanted = fulfilment('fulfilment', request.fulfilment);
      return { cart: toCartMessage(await setCartFulfilment(deps, ctx, customerId, wanted)) };
    },
  },

  clearCart: {
    scope: 'carts',
    errors: [customerMismatch],
    async handle(deps, request, ctx) {
      return { cart: toCartMessage(await clearCart(deps, actingCustomer(ctx, 'customer_id', request.customerId))) };
    },
  },
};
