import { splitPage } from '#libs/db/keyset-page.js';
import { notFound } from '#libs/errors/app-error.js';
import { findCategory, listCategories } from '../../data/categories.js';
import type { InventoryDeps } from '../deps.js';
import type { CategoryRecord } from '../types.js';

/** The category reads: GetCategory and ListCategories (by name). */

export async function getCategory(deps: InventoryDeps, id: string): Promise<CategoryRecord> {
  const category = await findCategory(deps.db, id);
  if (!category) throw notFound('category', id);
  return category;
}

export async function listCategoryPage(deps: InventoryDeps, afterName: string | undefined, pageSize: number) {
  const rows = await listCategories(deps.db, afterName, pageSize + 1);
  const { page, nextKey } = splitPage(rows, pageSize, (category) => category.name);
  return { categories: page, nextAfterName: nextKey };
}
