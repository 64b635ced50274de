import type { Cart } from '#libs/contracts/larder/order/v1/resources.js';
import type { CartRecord } from '../domain/types.js';
import { toFulfilmentMessage } from './to-proto.js';

/** Cart record → the Cart message; items keep the record's order (by product id). */
export const toCartMessage = (cart: CartRecord): Cart => ({
  customerId: cart.customerId,
  items: cart.items.map((item) => ({ productId: item.productId, quantity: item.quantity })),
  updateTime: cart.updatedAt,
  fulfilment: toFulfilmentMessage(cart.fulfilment),
});
