import { splitPage } from '#libs/db/keyset-page.js';
import { notFound } from '#libs/errors/app-error.js';
import { findProduct, listProducts } from '../../data/products.js';
import { findStockTotals } from '../../data/stock-levels.js';
import type { InventoryDeps } from '../deps.js';
import type { ProductFilter, ProductRecord, StockRecord } from '../types.js';
import { catalogPart, type CatalogProduct } from './catalog-cache.js';

/**
 * GetProduct and ListProducts. With the catalog cache on, the catalog part
 * comes from it and stock is always read fresh and joined (docs/catalog-cache.md).
 */

/**
 * A product as the catalog reads answer it: its catalog part and its stock as
 * read for this call. `cached`: the catalog part is the cache's own object,
 * the same one for as long as the entry lives, so the transport may keep its
 * encoding (contract/product-wire.ts); it is never changed.
 */
export interface ProductView {
  catalog: CatalogProduct;
  stock: StockRecord;
  cached: boolean;
}

const uncachedView = (product: ProductRecord): ProductView => ({ catalog: product, stock: product.stock, cached: false });

export async function getProduct(deps: InventoryDeps, id: string, includeDeleted: boolean): Promise<ProductView> {
  const cache = deps.catalogCache;
  if (!cache) {
    const product = await findProduct(deps.db, id, { includeDeleted });
    if (!product) throw notFound('product', id);
    return uncachedView(product);
  }
  const cached = cache.product(id);
  const joined = cached && (await withFreshStock(deps, [cached]));
  if (joined) return visible(joined[0]!, includeDeleted);
  const token = cache.begin();
  const product = await findProduct(deps.db, id, { includeDeleted: true });
  if (!product) throw notFound('product', id);
  cache.storeProduct(token, product);
  return visible(uncachedView(product), includeDeleted);
}

function visible(view: ProductView, includeDeleted: boolean): ProductView {
  if (view.catalog.deletedAt && !includeDeleted) throw notFound('product', view.catalog.id);
  return view;
}

/** The cached products with their stock read now; undefined if one has no stock row (read it all from the database instead). */
async function withFreshStock(deps: InventoryDeps, products: readonly CatalogProduct[]): Promise<ProductView[] | undefined> {
  if (products.length === 0) return [];
  const ids = products.map((p) => p.id);
  const levels: Map<string, StockRecord> = await (deps.stockReads ? deps.stockReads.submit(ids) : findStockTotals(deps.db, ids));
  const joined: ProductView[] = [];
  for (const catalog of products) {
    const stock = levels.get(catalog.id);
    if (!stock) return undefined;
    joined.push({ catalog, stock, cached: true });
  }
  return joined;
}

export interface ProductPage {
  products: ProductView[];
  /** Id to continue after, when there may be more. */
  nextAfterId?: string;
}

/** One keyset page: asks for one row more than the page to know whether another page exists. */
export async function listProductPage(
  deps: InventoryDeps,
  filter: ProductFilter,
  afterId: string | undefined,
  pageSize: number,
): Promise<ProductPage> {
  const cache = deps.catalogCache;
  const cached = cache?.page(filter, afterId, pageSize);
  const joined = cached && (await withFreshStock(deps, cached.products));
  if (cached && joined) return { products: joined, nextAfterId: cached.nextAfterId };
  const token = cache?.begin();
  const rows = await listProducts(deps.db, filter, afterId, pageSize + 1);
  const { page, nextKey } = splitPage(rows, pageSize, (product) => product.id);
  if (cache && token !== undefined) {
    cache.storePage(token, filter, pageSize, {
      afterId,
      nextAfterId: nextKey,
      categoryId: filter.categoryId,
      products: page.map(catalogPart),
    });
  }
  return { products: page.map(uncachedView), nextAfterId: nextKey };
}
