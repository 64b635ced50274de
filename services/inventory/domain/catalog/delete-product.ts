import { notFound } from '#libs/errors/app-error.js';
import { appendToOutbox } from '#libs/events/outbox.js';
import { inTransaction } from '#libs/db/in-transaction.js';
import type { RequestContext } from '#libs/context/request-context.js';
import { findProduct, setDeleted } from '../../data/products.js';
import type { InventoryDeps } from '../deps.js';
import type { ProductRecord } from '../types.js';

/** DeleteProduct and UndeleteProduct: one use case, the soft-delete flag set or cleared. */

/**
 * Soft delete (deleted = true) or restore. Deleting a deleted product, or
 * restoring a live one, is FAILED_PRECONDITION-free: it returns the product
 * unchanged, so retries are safe.
 */
export async function setProductDeleted(deps: InventoryDeps, ctx: RequestContext, id: string, deleted: boolean): Promise<ProductRecord> {
  const now = deps.clock.now();
  const product = await inTransaction(deps, async (trx) => {
    const current = await findProduct(trx, id, { includeDeleted: true, forUpdate: true });
    if (!current) throw notFound('product', id);
    if (Boolean(current.deletedAt) === deleted) return current;
    await setDeleted(trx, id, deleted ? now : null, now);
    const product = (await findProduct(trx, id, { includeDeleted: true }))!;
    const eventCtx = { correlationId: ctx.correlationId, now };
    await appendToOutbox(trx, [deleted ? deps.events.productDeleted(eventCtx, product) : deps.events.productUndeleted(eventCtx, product)]);
    return product;
  });
  deps.catalogCache?.productChanged(id);
  return product;
}
