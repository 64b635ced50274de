import { notFound } from '#libs/errors/app-error.js';
import { patchCategory } from '../../data/categories.js';
import type { InventoryDeps } from '../deps.js';
import type { CategoryRecord } from '../types.js';
import { guardName } from './category-names.js';

/** UpdateCategory: name and description; a new name must be free. */
export async function updateCategory(
  deps: InventoryDeps,
  id: string,
  patch: { name?: string; description?: string },
): Promise<CategoryRecord> {
  const updated = await guardName(patch.name, () => patchCategory(deps.db, id, patch, deps.clock.now()));
  if (!updated) throw notFound('category', id);
  return updated;
}
