import { deleteCartLine, findCart, lockCartItems, setCartUpdatedAt } from '../../data/carts.js';
import type { OrderDeps } from '../deps.js';
import type { CartRecord } from '../types.js';

/** Removes the line; a line (or cart) that is not there is no error and changes nothing. */
export function removeCartItem(deps: Pick<OrderDeps, 'db' | 'clock'>, customerId: string, productId: string): Promise<CartRecord> {
  const now = deps.clock.now();
  return deps.db.transaction(async (trx) => {
    const cart = await lockCartItems(trx, customerId);
    if (!(await deleteCartLine(trx, customerId, productId))) return cart;
    await setCartUpdatedAt(trx, customerId, now);
    return findCart(trx, customerId);
  });
}
