import type { RequestContext } from '#libs/context/request-context.js';
import { addToCartLine, findCart, findCartLine, isCheckViolation, touchCart } from '../../data/carts.js';
import type { OrderDeps } from '../deps.js';
import type { CartRecord } from '../types.js';
import { assertRoomForLine, availableFor, insufficientStock, lineTooBig, MAX_LINE_QUANTITY, type CartLineCommand } from './cart-rules.js';

/**
 * Adds units to what the line holds. The availability check with inventory
 * runs before the transaction (no row lock is held across a network call);
 * the write is then one atomic upsert under the carts-row lock, and the line
 * it produced is checked against that availability again, so concurrent adds
 * cannot together pass a check each passed alone.
 */
export async function addCartItem(deps: OrderDeps, ctx: RequestContext, command: CartLineCommand): Promise<CartRecord> {
  const { customerId, productId, quantity } = command;
  const before = await findCartLine(deps.db, customerId, productId);
  assertRoomForLine(before, productId);
  const wanted = before.quantity + quantity;
  if (wanted > MAX_LINE_QUANTITY) throw lineTooBig(productId, before.quantity, quantity);
  const available = await availableFor(deps, ctx, command, wanted);

  const now = deps.clock.now();
  try {
    return await deps.db.transaction(async (trx) => {
      await touchCart(trx, customerId, now);
      assertRoomForLine(await findCartLine(trx, customerId, productId), productId);
      const line = await addToCartLine(trx, customerId, productId, quantity);
      if (line > available) throw insufficientStock(productId, line, available);
      return findCart(trx, customerId);
    });
  } catch (error) {
    // A concurrent add grew the line between our read and our write.
    if (isCheckViolation(error)) throw lineTooBig(productId, undefined, quantity);
    throw error;
  }
}
