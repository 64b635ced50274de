import type { Knex } from 'knex';
import type { Db } from '#libs/db/types.js';
import type { CategoryRecord } from '../domain/types.js';
import { isForeignKeyViolation } from './rows.js';

interface CategoryRow {
  id: string;
  name: string;
  description: string;
  created_at: Date;
  updated_at: Date;
}

const toCategory = (row: CategoryRow): CategoryRecord => ({
  id: row.id,
  name: row.name,
  description: row.description,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

export async function insertCategory(
  trx: Db,
  category: Omit<CategoryRecord, 'createdAt' | 'updatedAt'>,
  now: Date,
): Promise<CategoryRecord> {
  const [row] = await trx('categories')
    .insert({ ...category, created_at: now, updated_at: now })
    .returning('*');
  return toCategory(row);
}

export async function findCategory(db: Db, id: string): Promise<CategoryRecord | undefined> {
  const row = await db('categories').where({ id }).first();
  return row ? toCategory(row) : undefined;
}

/** Ids among `ids` that name no category. */
export async function missingCategoryIds(db: Db, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const found: { id: string }[] = await db('categories').whereIn('id', ids).select('id');
  const known = new Set(found.map((r) => r.id));
  return ids.filter((id) => !known.has(id));
}

/** The foreign key that refuses a product_categories row whose category does not exist. */
const MEMBERSHIP_CATEGORY_KEY = 'product_categories_category_id_foreign';

/**
 * The category id a membership insert was refused for because no such category
 * exists (one deleted after missingCategoryIds looked), read from PostgreSQL's
 * foreign-key violation; undefined for any other error.
 */
export function deletedCategoryIn(error: unknown): string | undefined {
  if (!isForeignKeyViolation(error)) return undefined;
  const { constraint, detail } = error as { constraint?: string; detail?: string };
  if (constraint !== MEMBERSHIP_CATEGORY_KEY) return undefined;
  return /\(category_id\)=\(([^)]+)\)/.exec(detail ?? '')?.[1];
}

/** Keyset page by name (names are unique ignoring case). */
export async function listCategories(db: Db, afterName: string | undefined, limit: number): Promise<CategoryRecord[]> {
  const query = db('categories').orderByRaw('lower(name)').limit(limit);
  if (afterName !== undefined) query.whereRaw('lower(name) > lower(?)', [afterName]);
  return (await query).map(toCategory);
}

export async function patchCategory(
  trx: Db,
  id: string,
  patch: Partial<Pick<CategoryRecord, 'name' | 'description'>>,
  now: Date,
): Promise<CategoryRecord | undefined> {
  const [row] = await trx('categories')
    .update({ ...patch, updated_at: now })
    .where({ id })
    .returning('*');
  return row ? toCategory(row) : undefined;
}

export async function countProductsInCategory(db: Db, id: string): Promise<number> {
  const row = await db('product_categories').where({ category_id: id }).count<{ count: string | number }[]>('* as count').first();
  return Number(row?.count ?? 0);
}

/** Deletes the category; memberships go with it (ON DELETE CASCADE). Returns false if it did not exist. */
export async function deleteCategoryRow(trx: Db, id: string): Promise<boolean> {
  return (await trx('categories').where({ id }).delete()) > 0;
}

/** Locks the category row for the rest of the transaction; false if it does not exist. */
export async function lockCategory(trx: Knex.Transaction, id: string): Promise<boolean> {
  return Boolean(await trx('categories').where({ id }).forUpdate().first('id'));
}

/** The category with this name, ignoring case. */
export async function findCategoryByName(db: Db, name: string): Promise<CategoryRecord | undefined> {
  const row = await db('categories').whereRaw('lower(name) = lower(?)', [name]).first();
  return row ? toCategory(row) : undefined;
}
