import type { RequestContext } from '#libs/context/request-context.js';
import { findCart, findCartLine, setCartLine, touchCart } from '../../data/carts.js';
import type { OrderDeps } from '../deps.js';
import type { CartRecord } from '../types.js';
import { assertRoomForLine, availableFor, type CartLineCommand } from './cart-rules.js';
import { removeCartItem } from './remove-cart-item.js';

/** Sets the line to `quantity` (0 removes it), creating it if the cart has none for the product. */
export async function updateCartItem(deps: OrderDeps, ctx: RequestContext, command: CartLineCommand): Promise<CartRecord> {
  const { customerId, productId, quantity } = command;
  if (quantity === 0) return removeCartItem(deps, customerId, productId);
  assertRoomForLine(await findCartLine(deps.db, customerId, productId), productId);
  await availableFor(deps, ctx, command, quantity);

  const now = deps.clock.now();
  return deps.db.transaction(async (trx) => {
    await touchCart(trx, customerId, now);
    assertRoomForLine(await findCartLine(trx, customerId, productId), productId);
    await setCartLine(trx, customerId, productId, quantity);
    return findCart(trx, customerId);
  });
}
