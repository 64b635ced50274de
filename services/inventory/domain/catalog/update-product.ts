import { aborted, notFound } from '#libs/errors/app-error.js';
import { appendToOutbox } from '#libs/events/outbox.js';
import { findProduct, updateProduct } from '../../data/products.js';
import { inTransaction } from '#libs/db/in-transaction.js';
import type { RequestContext } from '#libs/context/request-context.js';
import { type InventoryDeps } from '../deps.js';
import { replaceProductCategories } from './product-categories.js';
import type { ProductPatch, ProductRecord } from '../types.js';

export interface UpdateProductCommand {
  id: string;
  patch: ProductPatch;
  /** Replace the categories with these, when given. */
  categoryIds?: string[];
  /** The etag the caller read; a mismatch means someone else changed it first. */
  expectedVersion?: number;
  /** The mask paths, for the event. */
  changedFields: string[];
}

export async function updateProductFields(deps: InventoryDeps, ctx: RequestContext, command: UpdateProductCommand): Promise<ProductRecord> {
  const now = deps.clock.now();
  const updated = await inTransaction(deps, async (trx) => {
    const current = await findProduct(trx, command.id, { forUpdate: true });
    if (!current) throw notFound('product', command.id);
    if (command.expectedVersion !== undefined && command.expectedVersion !== current.version) {
      throw aborted(
        `product ${command.id} was changed concurrently (etag ${current.version}, you sent ${command.expectedVersion}); read it again`,
        {
          reason: 'ETAG_MISMATCH',
          metadata: { etag: String(current.version) },
        },
      );
    }
    await updateProduct(trx, command.id, command.patch, now);
    if (command.categoryIds) await replaceProductCategories(trx, command.id, command.categoryIds);
    const product = (await findProduct(trx, command.id))!;
    await appendToOutbox(trx, [deps.events.productUpdated({ correlationId: ctx.correlationId, now }, product, command.changedFields)]);
    return product;
  });
  deps.catalogCache?.productChanged(command.id);
  return updated;
}
