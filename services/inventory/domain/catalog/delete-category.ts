import { failedPrecondition, notFound } from '#libs/errors/app-error.js';
import { countProductsInCategory, deleteCategoryRow, lockCategory } from '../../data/categories.js';
import type { InventoryDeps } from '../deps.js';

/** DeleteCategory. */
/** Refuses to orphan memberships silently: products must leave first, or force. */
export async function deleteCategory(deps: InventoryDeps, id: string, force: boolean): Promise<void> {
  await deps.db.transaction(async (trx) => {
    if (!(await lockCategory(trx, id))) throw notFound('category', id);
    const inUse = await countProductsInCategory(trx, id);
    if (inUse > 0 && !force) {
      throw failedPrecondition(`category ${id} still has ${inUse} product(s); remove them or set force`, {
        reason: 'CATEGORY_NOT_EMPTY',
        metadata: { products: String(inUse) },
      });
    }
    await deleteCategoryRow(trx, id);
  });
}
