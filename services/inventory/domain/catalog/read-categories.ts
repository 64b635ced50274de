import { splitPage } from '#libs/db/keyset-page.js';
import { notFound } from '#libs/errors/app-error.js';
import { findCategory, listCategories } from '../../data/categories.js';
import type { InventoryDeps } from '../deps.js';
import type { CategoryRecord } from '../types.js';

/** The category reads: GetCategory and ListCategories (by name), through the catalog cache when it is on. */

export async function getCategory(deps: InventoryDeps, id: string): Promise<CategoryRecord> {
  const cache = deps.catalogCache;
  const cached = cache?.category(id);
  if (cached) return cached;
  const token = cache?.begin();
  const category = await findCategory(deps.db, id);
  if (!category) throw notFound('category', id);
  if (cache && token !== undefined) cache.storeCategory(token, category);
  return category;
}

export async function listCategoryPage(
  deps: InventoryDeps,
  afterName: string | undefined,
  pageSize: number,
): Promise<{ categories: CategoryRecord[]; nextAfterName?: string }> {
  const cache = deps.catalogCache;
  const cached = cache?.categoryPage(afterName, pageSize);
  if (cached) return cached;
  const token = cache?.begin();
  const rows = await listCategories(deps.db, afterName, pageSize + 1);
  const { page, nextKey } = splitPage(rows, pageSize, (category) => category.name);
  const result = { categories: page, nextAfterName: nextKey };
  if (cache && token !== undefined) cache.storeCategoryPage(token, afterName, pageSize, result);
  return result;
}
