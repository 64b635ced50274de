import { splitPage } from '#libs/db/keyset-page.js';
import { alreadyExists, failedPrecondition, notFound } from '#libs/errors/app-error.js';
import { uuidv7 } from '#libs/ids/uuid.js';
import * as categories from '../../data/categories.js';
import { isUniqueViolation } from '../../data/rows.js';
import type { InventoryDeps } from '../deps.js';
import type { CategoryRecord } from '../types.js';

const nameTaken = (name: string) =>
  alreadyExists(`a category named "${name}" already exists`, { reason: 'CATEGORY_NAME_TAKEN', field: 'category.name', metadata: { name } });

/** Turns the unique-name violation into ALREADY_EXISTS. */
async function guardName<T>(name: string | undefined, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (name !== undefined && isUniqueViolation(error)) throw nameTaken(name);
    throw error;
  }
}

export function createCategory(deps: InventoryDeps, input: { name: string; description: string }): Promise<CategoryRecord> {
  const now = deps.clock.now();
  return guardName(input.name, () => categories.insertCategory(deps.db, { id: uuidv7(now.getTime()), ...input }, now));
}

export async function getCategory(deps: InventoryDeps, id: string): Promise<CategoryRecord> {
  const category = await categories.findCategory(deps.db, id);
  if (!category) throw notFound('category', id);
  return category;
}

export async function listCategoryPage(deps: InventoryDeps, afterName: string | undefined, pageSize: number) {
  const rows = await categories.listCategories(deps.db, afterName, pageSize + 1);
  const { page, nextKey } = splitPage(rows, pageSize, (category) => category.name);
  return { categories: page, nextAfterName: nextKey };
}

export async function updateCategory(
  deps: InventoryDeps,
  id: string,
  patch: { name?: string; description?: string },
): Promise<CategoryRecord> {
  const updated = await guardName(patch.name, () => categories.updateCategory(deps.db, id, patch, deps.clock.now()));
  if (!updated) throw notFound('category', id);
  return updated;
}

/** Refuses to orphan memberships silently: products must leave first, or force. */
export async function deleteCategory(deps: InventoryDeps, id: string, force: boolean): Promise<void> {
  await deps.db.transaction(async (trx) => {
    if (!(await categories.lockCategory(trx, id))) throw notFound('category', id);
    const inUse = await categories.countProductsInCategory(trx, id);
    if (inUse > 0 && !force) {
      throw failedPrecondition(`category ${id} still has ${inUse} product(s); remove them or set force`, {
        reason: 'CATEGORY_NOT_EMPTY',
        metadata: { products: String(inUse) },
      });
    }
    await categories.deleteCategory(trx, id);
  });
}
