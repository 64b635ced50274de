import type {
  AddCartItemRequest,
  AddCartItemResponse,
  CartServiceService,
  ClearCartRequest,
  ClearCartResponse,
  GetCartRequest,
  GetCartResponse,
  RemoveCartItemRequest,
  RemoveCartItemResponse,
  UpdateCartItemRequest,
  UpdateCartItemResponse,
} from '#libs/contracts/larder/order/v1/cart_service.js';
import type { CallContext } from '#libs/grpc/call-context.js';
import type { Handlers } from '#libs/grpc/server.js';
import * as v from '#libs/validation/fields.js';
import { toCartMessage } from '../contract/to-proto-cart.js';
import { addCartItem } from '../domain/carts/add-cart-item.js';
import { MAX_LINE_QUANTITY } from '../domain/carts/cart-rules.js';
import { clearCart } from '../domain/carts/clear-cart.js';
import { getCart } from '../domain/carts/get-cart.js';
import { removeCartItem } from '../domain/carts/remove-cart-item.js';
import { updateCartItem } from '../domain/carts/update-cart-item.js';
import type { OrderDeps } from '../domain/deps.js';
import { actingCustomer } from './customer.js';

/** Every CartService RPC: validate, run the use case, map the cart (a customer's token reaches only its own cart). */
export const cartHandlers = (deps: OrderDeps): Handlers<typeof CartServiceService> => ({
  async getCart(request: GetCartRequest, ctx: CallContext): Promise<GetCartResponse> {
    return { cart: toCartMessage(await getCart(deps, actingCustomer(ctx, 'customer_id', request.customerId))) };
  },

  async addCartItem(request: AddCartItemRequest, ctx: CallContext): Promise<AddCartItemResponse> {
    const command = {
      customerId: actingCustomer(ctx, 'customer_id', request.customerId),
      productId: v.requireUuid('product_id', request.productId),
      quantity: v.integer('quantity', request.quantity, { min: 1, max: MAX_LINE_QUANTITY }),
    };
    return { cart: toCartMessage(await addCartItem(deps, ctx, command)) };
  },

  async updateCartItem(request: UpdateCartItemRequest, ctx: CallContext): Promise<UpdateCartItemResponse> {
    const command = {
      customerId: actingCustomer(ctx, 'customer_id', request.customerId),
      productId: v.requireUuid('product_id', request.productId),
      quantity: v.integer('quantity', request.quantity, { min: 0, max: MAX_LINE_QUANTITY }),
    };
    return { cart: toCartMessage(await updateCartItem(deps, ctx, command)) };
  },

  async removeCartItem(request: RemoveCartItemRequest, ctx: CallContext): Promise<RemoveCartItemResponse> {
    const customerId = actingCustomer(ctx, 'customer_id', request.customerId);
    const productId = v.requireUuid('product_id', request.productId);
    return { cart: toCartMessage(await removeCartItem(deps, customerId, productId)) };
  },

  async clearCart(request: ClearCartRequest, ctx: CallContext): Promise<ClearCartResponse> {
    return { cart: toCartMessage(await clearCart(deps, actingCustomer(ctx, 'customer_id', request.customerId))) };
  },
});
