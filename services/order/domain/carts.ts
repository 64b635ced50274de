import { failedPrecondition, invalid, notFound, unavailable } from '#libs/errors/app-error.js';
import {
  addToCartLine,
  clearCartItems,
  deleteCartLine,
  findCart,
  findCartLine,
  isCheckViolation,
  lockCartItems,
  setCartLine,
  setCartUpdatedAt,
  touchCart,
  type CartLine,
} from '../data/carts.js';
import type { RequestContext } from '#libs/context/request-context.js';
import type { OrderDeps } from './deps.js';
import type { CartRecord } from './types.js';

/** Most units of one product a cart line may hold (the table's CHECK says the same). */
export const MAX_LINE_QUANTITY = 1000;
/** Most distinct products in one cart. */
export const MAX_CART_LINES = 100;

export interface CartLineCommand {
  customerId: string;
  productId: string;
  quantity: number;
}

/** The cart as it is; an unused cart is empty and has no updatedAt (nothing is written). */
export function getCart(deps: Pick<OrderDeps, 'db'>, customerId: string): Promise<CartRecord> {
  return findCart(deps.db, customerId);
}

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
  const available = await availableFor(deps, ctx, productId, wanted);

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

/** Sets the line to `quantity` (0 removes it), creating it if the cart has none for the product. */
export async function updateCartItem(deps: OrderDeps, ctx: RequestContext, command: CartLineCommand): Promise<CartRecord> {
  const { customerId, productId, quantity } = command;
  if (quantity === 0) return removeCartItem(deps, customerId, productId);
  assertRoomForLine(await findCartLine(deps.db, customerId, productId), productId);
  await availableFor(deps, ctx, productId, quantity);

  const now = deps.clock.now();
  return deps.db.transaction(async (trx) => {
    await touchCart(trx, customerId, now);
    assertRoomForLine(await findCartLine(trx, customerId, productId), productId);
    await setCartLine(trx, customerId, productId, quantity);
    return findCart(trx, customerId);
  });
}

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

/**
 * Asks inventory how many units are available now and refuses when fewer
 * than `wanted`; returns the number for a re-check after the write.
 */
async function availableFor(deps: Pick<OrderDeps, 'inventory'>, ctx: RequestContext, productId: string, wanted: number): Promise<number> {
  const outcome = await deps.inventory.availability(productId, { correlationId: ctx.correlationId });
  switch (outcome.kind) {
    case 'notFound':
      throw notFound('product', productId);
    case 'unavailable':
      throw unavailable(`cannot check the stock of product ${productId} now, retry later: ${outcome.message}`, {
        reason: 'INVENTORY_UNAVAILABLE',
        metadata: { product_id: productId },
      });
    case 'found':
      if (outcome.available < wanted) throw insufficientStock(productId, wanted, outcome.available);
      return outcome.available;
  }
}

/** A new line needs room; more of a product already in the cart never does. */
function assertRoomForLine(line: CartLine, productId: string): void {
  if (line.quantity === 0 && line.lineCount >= MAX_CART_LINES) {
    throw failedPrecondition(`the cart already holds ${line.lineCount} products, the most it may; remove one to add product ${productId}`, {
      reason: 'CART_FULL',
      metadata: { product_id: productId, max_products: String(MAX_CART_LINES) },
    });
  }
}

const insufficientStock = (productId: string, requested: number, available: number) =>
  failedPrecondition(`insufficient stock for product ${productId}: the cart would hold ${requested}, available ${available}`, {
    reason: 'INSUFFICIENT_STOCK',
    metadata: { product_id: productId, requested: String(requested), available: String(available) },
  });

const lineTooBig = (productId: string, held: number | undefined, adding: number) =>
  invalid(
    'quantity',
    held === undefined
      ? `adding ${adding} of product ${productId} would make the line hold more than ${MAX_LINE_QUANTITY}`
      : `the cart holds ${held} of product ${productId}; adding ${adding} would make ${held + adding}, more than ${MAX_LINE_QUANTITY}`,
  );
