import { clearCartItems, findCart, lockCartItems } from '../../data/carts.js';
import type { OrderDeps } from '../deps.js';
import type { CartRecord } from '../types.js';

/** Deletes every line; clearing an empty cart changes nothing. */
export function clearCart(deps: Pick<OrderDeps, 'db' | 'clock'>, customerId: string): Promise<CartRecord> {
  const now = deps.clock.now();
  return deps.db.transaction(async (trx) => {
    const cart = await lockCartItems(trx, customerId);
    if (cart.items.length === 0) return cart;
    await clearCartItems(trx, customerId, now);
    return findCart(trx, customerId);
  });
}
