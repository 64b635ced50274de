import type { Tx } from '#libs/db/types.js';
import { invalid } from '#libs/errors/app-error.js';
import { deletedCategoryIn, missingCategoryIds } from '../../data/categories.js';
import { setProductCategories } from '../../data/products.js';

/** A category_ids entry that names no category: bad input, naming the field and the id. */
const unknownCategory = (id: string) => invalid('product.category_ids', `unknown category ${id}`, 'CATEGORY_NOT_FOUND');

/**
 * Makes `categoryIds` the product's categories (CreateProduct, UpdateProduct),
 * refusing an unknown one. A category deleted after the check and before the
 * insert is refused by the foreign key instead; the caller gets the same
 * answer as if the delete had come first, not an internal error.
 */
export async function replaceProductCategories(trx: Tx, productId: string, categoryIds: readonly string[]): Promise<void> {
  const missing = await missingCategoryIds(trx, categoryIds);
  if (missing.length > 0) throw unknownCategory(missing[0]!);
  try {
    await setProductCategories(trx, productId, categoryIds);
  } catch (error) {
    const deleted = deletedCategoryIn(error);
    throw deleted === undefined ? error : unknownCategory(deleted);
  }
}
