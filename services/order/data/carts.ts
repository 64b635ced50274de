import type { Knex } from 'knex';
import type { Db } from '#libs/db/types.js';
import type { CartItemRecord, CartLine, CartRecord, Fulfilment } from '../domain/types.js';
import { fulfilmentColumn, fulfilmentOf, type StoredFulfilment } from './fulfilment-columns.js';

interface CartRow {
  customer_id: string;
  updated_at: Date;
  fulfilment: StoredFulfilment | null;
}

interface CartItemRow {
  product_id: string;
  quantity: number;
}

/**
 * Locking order, the same for every writer: the carts row first, then its
 * items. Every cart mutation starts by taking the carts row (touchCart or
 * lockCartItems), so writers of one cart queue there and never deadlock.
 */

/**
 * The customer's cart with its lines sorted by product id. A customer who
 * never used the cart has no row: that is an empty cart without updatedAt
 * (nothing is created on read).
 */
export async function findCart(db: Db, customerId: string, options: { forUpdate?: boolean } = {}): Promise<CartRecord> {
  const cartQuery = db('carts').first('customer_id', 'updated_at', 'fulfilment').where({ customer_id: customerId });
  if (options.forUpdate) cartQuery.forUpdate();
  const cart: CartRow | undefined = await cartQuery;
  if (!cart) return { customerId, items: [] };
  const itemQuery = db('cart_items').select('product_id', 'quantity').where({ customer_id: customerId }).orderBy('product_id');
  if (options.forUpdate) itemQuery.forUpdate();
  const items: CartItemRow[] = await itemQuery;
  const fulfilment = fulfilmentOf(cart.fulfilment);
  return { customerId, items: items.map(toItem), updatedAt: cart.updated_at, ...(fulfilment ? { fulfilment } : {}) };
}

/**
 * For checkout, in its transaction: locks the carts row (SELECT … FOR UPDATE),
 * then reads and locks its items. Cart writers wait until the transaction
 * ends, so what it read is exactly what it may turn into an order.
 * An unused cart (no row) comes back empty and locks nothing.
 */
export function lockCartItems(trx: Knex.Transaction, customerId: string): Promise<CartRecord> {
  return findCart(trx, customerId, { forUpdate: true });
}

/**
 * Deletes every line of the cart; returns how many there were. Call after
 * lockCartItems in the same transaction. With `now`, the cart's updated_at
 * moves too when something was deleted (the cart changed).
 */
export async function clearCartItems(trx: Knex.Transaction, customerId: string, now?: Date): Promise<number> {
  const deleted = await trx('cart_items').where({ customer_id: customerId }).delete();
  if (deleted > 0 && now) await trx('carts').update({ updated_at: now }).where({ customer_id: customerId });
  return deleted;
}

/**
 * Creates the carts row or moves its updated_at (INSERT … ON CONFLICT DO
 * UPDATE). Either way the row stays locked until the transaction ends.
 */
export async function touchCart(trx: Knex.Transaction, customerId: string, now: Date): Promise<void> {
  await trx('carts').insert({ customer_id: customerId, updated_at: now }).onConflict('customer_id').merge(['updated_at']);
}

/**
 * Sets (or, with undefined, clears) the cart's fulfilment and moves its
 * updated_at, creating the carts row if needed (INSERT … ON CONFLICT DO UPDATE).
 */
export async function writeCartFulfilment(
  trx: Knex.Transaction,
  customerId: string,
  fulfilment: Fulfilment | undefined,
  now: Date,
): Promise<void> {
  await trx('carts')
    .insert({ customer_id: customerId, updated_at: now, fulfilment: fulfilmentColumn(fulfilment, false) })
    .onConflict('customer_id')
    .merge(['updated_at', 'fulfilment']);
}

/** The cart's fulfilment, if it has one (a cart never used has none). */
export async function findCartFulfilment(db: Db, customerId: string): Promise<Fulfilment | undefined> {
  const row: Pick<CartRow, 'fulfilment'> | undefined = await db('carts').first('fulfilment').where({ customer_id: customerId });
  return fulfilmentOf(row?.fulfilment ?? null);
}

/** How many lines the cart has and how much it holds of one product, in one query. */
export async function findCartLine(db: Db, customerId: string, productId: string): Promise<CartLine> {
  const row: { line_count: number; quantity: number } | undefined = await db('cart_items')
    .where({ customer_id: customerId })
    .first(
      db.raw('count(*)::int as line_count'),
      db.raw('coalesce(sum(quantity) filter (where product_id = ?), 0)::int as quantity', [productId]),
    );
  return { lineCount: row?.line_count ?? 0, quantity: row?.quantity ?? 0 };
}

/**
 * Adds units to the line in one statement, atomic against concurrent adds:
 * INSERT … ON CONFLICT DO UPDATE SET quantity = cart_items.quantity + excluded.quantity.
 * The table's CHECK (quantity ≤ 1000) refuses a line that would grow too big
 * (see isCheckViolation). Returns the line's quantity after the change.
 */
export async function addToCartLine(trx: Knex.Transaction, customerId: string, productId: string, quantity: number): Promise<number> {
  const rows: { quantity: number }[] = await trx('cart_items')
    .insert({ customer_id: customerId, product_id: productId, quantity })
    .onConflict(['customer_id', 'product_id'])
    .merge({ quantity: trx.raw('cart_items.quantity + excluded.quantity') })
    .returning('quantity');
  return rows[0]!.quantity;
}

/** Sets the line's quantity (> 0), creating the line if needed. */
export async function setCartLine(trx: Knex.Transaction, customerId: string, productId: string, quantity: number): Promise<void> {
  await trx('cart_items')
    .insert({ customer_id: customerId, product_id: productId, quantity })
    .onConflict(['customer_id', 'product_id'])
    .merge(['quantity']);
}

/** Deletes one line; true when there was one. */
export async function deleteCartLine(trx: Knex.Transaction, customerId: string, productId: string): Promise<boolean> {
  return (await trx('cart_items').where({ customer_id: customerId, product_id: productId }).delete()) > 0;
}

/** Moves the cart's updated_at (the row must exist; callers hold its lock). */
export async function setCartUpdatedAt(trx: Knex.Transaction, customerId: string, now: Date): Promise<void> {
  await trx('carts').update({ updated_at: now }).where({ customer_id: customerId });
}

const toItem = (row: CartItemRow): CartItemRecord => ({ productId: row.product_id, quantity: row.quantity });

/** Postgres: check_violation (e.g. cart_items_quantity_range). */
export const isCheckViolation = (error: unknown): boolean => (error as { code?: string } | undefined)?.code === '23514';
