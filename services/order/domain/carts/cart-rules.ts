import { failedPrecondition, invalid, notFound, unavailable } from '#libs/errors/app-error.js';
import type { RequestContext } from '#libs/context/request-context.js';
import { findCartFulfilment } from '../../data/carts.js';
import type { OrderDeps } from '../deps.js';
import { stockScopeOf } from '../inventory-port.js';
import type { CartLine } from '../types.js';

/** The rules AddCartItem and UpdateCartItem share: line and cart limits, and the availability check. */

/** Most units of one product a cart line may hold (the table's CHECK says the same). */
export const MAX_LINE_QUANTITY = 1000;
/** Most distinct products in one cart. */
export const MAX_CART_LINES = 100;

export interface CartLineCommand {
  customerId: string;
  productId: string;
  quantity: number;
}

/**
 * Asks inventory how many units are available to sell now — at the locations
 * serving the cart's fulfilment when it has one (its pickup location, or those
 * delivering to its address), else the product's totals — and refuses when
 * fewer than `wanted`; returns the number for a re-check after the write.
 */
export async function availableFor(
  deps: Pick<OrderDeps, 'inventory' | 'db'>,
  ctx: RequestContext,
  command: { customerId: string; productId: string },
  wanted: number,
): Promise<number> {
  const { customerId, productId } = command;
  const scope = stockScopeOf(await findCartFulfilment(deps.db, customerId));
  const outcome = await deps.inventory.availability(productId, { correlationId: ctx.correlationId }, scope);
  switch (outcome.kind) {
    case 'notFound':
      throw notFound('product', productId);
    case 'unavailable':
      throw unavailable(`cannot check the stock of product ${productId} now, retry later: ${outcome.message}`, {
        reason: 'INVENTORY_UNAVAILABLE',
        metadata: { product_id: productId },
      });
    case 'found':
      if (outcome.available < wanted) throw insufficientStock(productId, wanted, outcome.available, scope !== undefined);
      return outcome.available;
  }
}

/** A new line needs room; more of a product already in the cart never does. */
export function assertRoomForLine(line: CartLine, productId: string): void {
  if (line.quantity === 0 && line.lineCount >= MAX_CART_LINES) {
    throw failedPrecondition(`the cart already holds ${line.lineCount} products, the most it may; remove one to add product ${productId}`, {
      reason: 'CART_FULL',
      metadata: { product_id: productId, max_products: String(MAX_CART_LINES) },
    });
  }
}

export const insufficientStock = (productId: string, requested: number, available: number, scoped = false) =>
  failedPrecondition(
    `insufficient stock for product ${productId}: the cart would hold ${requested}, available ${available}` +
      (scoped ? " at the locations serving the cart's fulfilment" : ''),
    {
      reason: 'INSUFFICIENT_STOCK',
      metadata: { product_id: productId, requested: String(requested), available: String(available) },
    },
  );

export const lineTooBig = (productId: string, held: number | undefined, adding: number) =>
  invalid(
    'quantity',
    held === undefined
      ? `adding ${adding} of product ${productId} would make the line hold more than ${MAX_LINE_QUANTITY}`
      : `the cart holds ${held} of product ${productId}; adding ${adding} would make ${held + adding}, more than ${MAX_LINE_QUANTITY}`,
  );
