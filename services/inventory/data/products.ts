import type { Knex } from 'knex';
import type { Db } from '#libs/db/types.js';
import type { NewProduct, ProductFilter, ProductPatch, ProductRecord } from '../domain/types.js';
import { TOTAL_STOCK_COLUMNS, toMoney, toStock, type StockRow } from './rows.js';

interface ProductRow extends StockRow {
  id: string;
  sku: string;
  name: string;
  description: string;
  price_minor: number;
  currency_code: string;
  version: number;
  created_at: Date;
  deleted_at: Date | null;
  stock_updated_at: Date;
}

const COLUMNS = [
  'p.id',
  'p.sku',
  'p.name',
  'p.description',
  'p.price_minor',
  'p.currency_code',
  'p.low_stock_threshold',
  'p.version',
  'p.created_at',
  'p.updated_at',
  'p.deleted_at',
  's.product_id',
  's.location_id',
  's.available',
  's.reserved',
  's.sold',
  's.safety_stock',
  's.available_to_sell',
  's.in_transit',
  's.updated_at as stock_updated_at',
];

/**
 * A product's stock is its totals over its locations (docs/design.md §8): a
 * lateral aggregate of its stock rows, an index range on the key's first column
 * per product, so a page costs what its products cost.
 */
const TOTALS = `cross join lateral (select ${TOTAL_STOCK_COLUMNS} from stock_levels s where s.product_id = p.id group by s.product_id) s`;

const baseQuery = (db: Db) => db('products as p').joinRaw(TOTALS).select(COLUMNS);

function toProduct(row: ProductRow, categoryIds: string[]): ProductRecord {
  return {
    id: row.id,
    sku: row.sku,
    name: row.name,
    description: row.description,
    price: toMoney(row.price_minor, row.currency_code),
    categoryIds,
    lowStockThreshold: row.low_stock_threshold,
    stock: toStock({ ...row, updated_at: row.stock_updated_at }),
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    deletedAt: row.deleted_at ?? undefined,
  };
}

/**
 * Databases (by connection string) known to have the categories tables. Once
 * the expand migration ran they stay, so only "not yet" is ever asked again.
 */
const categoriesSchemaSeen = new Set<string>();

/**
 * Whether the categories migration has run. Asked without touching the table:
 * a failed query would abort the caller's transaction.
 */
async function hasCategoriesSchema(db: Db): Promise<boolean> {
  const key = JSON.stringify(db.client.config.connection);
  if (categoriesSchemaSeen.has(key)) return true;
  const { rows } = await db.raw<{ rows: { present: boolean }[] }>("select to_regclass('product_categories') is not null as present");
  if (rows[0]?.present) categoriesSchemaSeen.add(key);
  return Boolean(rows[0]?.present);
}

/**
 * Category ids per product. Tolerates a schema from before the categories
 * migration (expand step), so product reads keep working while it runs.
 */
async function categoryIdsOf(db: Db, productIds: readonly string[]): Promise<Map<string, string[]>> {
  const byProduct = new Map<string, string[]>(productIds.map((id) => [id, []]));
  if (productIds.length === 0 || !(await hasCategoriesSchema(db))) return byProduct;
  const rows: { product_id: string; category_id: string }[] = await db('product_categories')
    .whereIn('product_id', productIds)
    .orderBy('category_id')
    .select('product_id', 'category_id');
  for (const row of rows) byProduct.get(row.product_id)?.push(row.category_id);
  return byProduct;
}

async function withCategories(db: Db, rows: ProductRow[]): Promise<ProductRecord[]> {
  const categories = await categoryIdsOf(
    db,
    rows.map((r) => r.id),
  );
  return rows.map((row) => toProduct(row, categories.get(row.id) ?? []));
}

/** Inserts the product row; the caller adds its stock row and categories in the same transaction. */
export async function insertProduct(trx: Knex.Transaction, product: NewProduct, now: Date): Promise<void> {
  await trx('products').insert({
    id: product.id,
    sku: product.sku,
    name: product.name,
    description: product.description,
    price_minor: product.price.minorUnits,
    currency_code: product.price.currencyCode,
    low_stock_threshold: product.lowStockThreshold,
    created_at: now,
    updated_at: now,
  });
}

export async function findProduct(
  db: Db,
  id: string,
  options: { includeDeleted?: boolean; forUpdate?: boolean } = {},
): Promise<ProductRecord | undefined> {
  const query = baseQuery(db).where('p.id', id);
  if (!options.includeDeleted) query.whereNull('p.deleted_at');
  if (options.forUpdate) query.forUpdate('p');
  const row: ProductRow | undefined = await query.first();
  return row ? (await withCategories(db, [row]))[0] : undefined;
}

const escapeLike = (text: string): string => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * One keyset page in id order (ids are UUIDv7, so creation order); `afterId` excludes itself.
 * The page is chosen from products alone and only its rows are joined to their
 * stock: when name_contains is answered from the trigram index, the matches are
 * sorted by id first, so a phrase matching thousands does not join them all.
 * Deep pages: with the key on products only, a join could walk stock_levels from
 * its first row up to the key (about 0.2 s at page 9,900 of 1M); joining the
 * page alone to each product's stock totals keeps every page as cheap as the first.
 */
export async function listProducts(db: Db, filter: ProductFilter, afterId: string | undefined, limit: number): Promise<ProductRecord[]> {
  const page = db('products as p').select('p.*').orderBy('p.id').limit(limit);
  if (afterId) page.where('p.id', '>', afterId);
  if (!filter.includeDeleted) page.whereNull('p.deleted_at');
  if (filter.nameContains) page.whereILike('p.name', `%${escapeLike(filter.nameContains)}%`);
  if (filter.categoryId) {
    page.whereExists(
      db('product_categories as pc').select(db.raw('1')).whereRaw('pc.product_id = p.id').where('pc.category_id', filter.categoryId),
    );
  }
  const rows = db.from(page.as('p')).joinRaw(TOTALS).select(COLUMNS).orderBy('p.id');
  return withCategories(db, (await rows) as ProductRow[]);
}

/** Applies a patch and bumps the version (the etag). */
export async function updateProduct(trx: Knex.Transaction, id: string, patch: ProductPatch, now: Date): Promise<void> {
  const row: Record<string, unknown> = { updated_at: now, version: trx.raw('version + 1') };
  if (patch.name !== undefined) row.name = patch.name;
  if (patch.description !== undefined) row.description = patch.description;
  if (patch.price !== undefined) {
    row.price_minor = patch.price.minorUnits;
    row.currency_code = patch.price.currencyCode;
  }
  if (patch.lowStockThreshold !== undefined) row.low_stock_threshold = patch.lowStockThreshold;
  await trx('products').update(row).where({ id });
}

export async function setDeleted(trx: Knex.Transaction, id: string, deletedAt: Date | null, now: Date): Promise<void> {
  await trx('products')
    .update({ deleted_at: deletedAt, updated_at: now, version: trx.raw('version + 1') })
    .where({ id });
}

/** Replaces the product's category memberships. */
export async function setProductCategories(trx: Knex.Transaction, productId: string, categoryIds: readonly string[]): Promise<void> {
  await trx('product_categories').where({ product_id: productId }).delete();
  if (categoryIds.length > 0) {
    await trx('product_categories').insert(categoryIds.map((categoryId) => ({ product_id: productId, category_id: categoryId })));
  }
}
