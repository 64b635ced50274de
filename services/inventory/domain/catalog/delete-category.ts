import { inTransaction } from '#libs/db/in-transaction.js';
import type { RequestContext } from '#libs/context/request-context.js';
import { failedPrecondition, notFound } from '#libs/errors/app-error.js';
import { appendToOutbox } from '#libs/events/outbox.js';
import { countProductsInCategory, deleteCategoryRow, findCategory, lockCategory } from '../../data/categories.js';
import type { InventoryDeps } from '../deps.js';

/**
 * DeleteCategory. Refuses to orphan memberships silently: products must leave
 * first, or force. Announced (CategoryDeleted), memberships included.
 */
export async function deleteCategory(deps: InventoryDeps, ctx: RequestContext, id: string, force: boolean): Promise<void> {
  const now = deps.clock.now();
  await inTransaction(deps, async (trx) => {
    if (!(await lockCategory(trx, id))) throw notFound('category', id);
    const category = (await findCategory(trx, id))!;
    const inUse = await countProductsInCategory(trx, id);
    if (inUse > 0 && !force) {
      throw failedPrecondition(`category ${id} still has ${inUse} product(s); remove them or set force`, {
        reason: 'CATEGORY_NOT_EMPTY',
        metadata: { products: String(inUse) },
      });
    }
    await deleteCategoryRow(trx, id);
    await appendToOutbox(trx, [deps.events.categoryDeleted({ correlationId: ctx.correlationId, now }, category, inUse)]);
  });
  deps.catalogCache?.categoryDeleted(id);
}
