import { findCart } from '../../data/carts.js';
import type { OrderDeps } from '../deps.js';
import type { CartRecord } from '../types.js';

/** The cart as it is; an unused cart is empty and has no updatedAt (nothing is written). */
export function getCart(deps: Pick<OrderDeps, 'db'>, customerId: string): Promise<CartRecord> {
  return findCart(deps.db, customerId);
}
