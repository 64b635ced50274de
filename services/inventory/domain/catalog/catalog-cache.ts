import { ReadCache, type FillToken, type ReadCacheOptions } from '#libs/cache/read-cache.js';
import type { CategoryRecord, ProductFilter, ProductRecord } from '../types.js';

/**
 * What the catalog cache holds, and which entries a change touches
 * (docs/catalog-cache.md). Products are held without their stock: live stock
 * is never served from here, every answer joins fresh levels (read-products.ts).
 */

/** A product's catalog part: everything but its stock. */
export type CatalogProduct = Omit<ProductRecord, 'stock'>;

export interface CachedProductPage {
  /** The page's key range is (afterId, lastId], or (afterId, ∞) when it is the last page. */
  afterId?: string;
  nextAfterId?: string;
  categoryId?: string;
  products: CatalogProduct[];
}

export interface CachedCategoryPage {
  categories: CategoryRecord[];
  nextAfterName?: string;
}

type Entry =
  { product: CatalogProduct } | { page: CachedProductPage } | { category: CategoryRecord } | { categoryPage: CachedCategoryPage };

/** The kinds of entry, each a cache with its own series in the metrics. */
export const CATALOG_CACHES = ['products', 'product_pages', 'categories', 'category_pages'] as const;

const productKey = (id: string) => `products:${id}`;
const pageKey = (filter: ProductFilter, afterId: string | undefined, pageSize: number) =>
  `product_pages:${JSON.stringify([filter.categoryId ?? '', filter.nameContains ?? '', filter.includeDeleted, afterId ?? '', pageSize])}`;
const categoryKey = (id: string) => `categories:${id}`;
const categoryPageKey = (afterName: string | undefined, pageSize: number) =>
  `category_pages:${JSON.stringify([afterName ?? null, pageSize])}`;

export const catalogPart = ({ stock: _stock, ...product }: ProductRecord): CatalogProduct => product;

/**
 * Whether a change of product `id` can alter this page: it can enter, leave or
 * change only a page whose key range holds its id (keyset pages in id order).
 * Filters are not consulted: a change can move a product into or out of one.
 */
export function pageMayHold(page: CachedProductPage, id: string): boolean {
  return (page.afterId === undefined || page.afterId < id) && (page.nextAfterId === undefined || id <= page.nextAfterId);
}

export class CatalogCache {
  readonly entries: ReadCache<Entry>;

  constructor(options: Omit<ReadCacheOptions, 'kinds'>) {
    this.entries = new ReadCache<Entry>({ ...options, kinds: CATALOG_CACHES });
  }

  begin() {
    return this.entries.begin();
  }

  product(id: string): CatalogProduct | undefined {
    const entry = this.entries.get(productKey(id));
    return entry && 'product' in entry ? entry.product : undefined;
  }

  storeProduct(token: FillToken, product: ProductRecord): void {
    this.entries.store(token, productKey(product.id), { product: catalogPart(product) });
  }

  page(filter: ProductFilter, afterId: string | undefined, pageSize: number): CachedProductPage | undefined {
    const entry = this.entries.get(pageKey(filter, afterId, pageSize));
    return entry && 'page' in entry ? entry.page : undefined;
  }

  storePage(token: FillToken, filter: ProductFilter, pageSize: number, page: CachedProductPage): void {
    this.entries.store(token, pageKey(filter, page.afterId, pageSize), { page });
  }

  category(id: string): CategoryRecord | undefined {
    const entry = this.entries.get(categoryKey(id));
    return entry && 'category' in entry ? entry.category : undefined;
  }

  storeCategory(token: FillToken, category: CategoryRecord): void {
    this.entries.store(token, categoryKey(category.id), { category });
  }

  categoryPage(afterName: string | undefined, pageSize: number): CachedCategoryPage | undefined {
    const entry = this.entries.get(categoryPageKey(afterName, pageSize));
    return entry && 'categoryPage' in entry ? entry.categoryPage : undefined;
  }

  storeCategoryPage(token: FillToken, afterName: string | undefined, pageSize: number, page: CachedCategoryPage): void {
    this.entries.store(token, categoryPageKey(afterName, pageSize), { categoryPage: page });
  }

  /** A product was created, updated, (un)deleted or changed categories: it and every page that may hold it. */
  productChanged(id: string): number {
    return this.entries.invalidate((_key, entry) =>
      'product' in entry ? entry.product.id === id : 'page' in entry && pageMayHold(entry.page, id),
    );
  }

  /** A category was created or updated: it and every category page (names order them, and a rename moves one). */
  categoryChanged(id: string): number {
    return this.entries.invalidate((_key, entry) => ('category' in entry ? entry.category.id === id : 'categoryPage' in entry));
  }

  /**
   * A category was deleted, with its memberships: besides categoryChanged's,
   * the products that were in it and the pages that show one or filter by it.
   */
  categoryDeleted(id: string): number {
    const inIt = (product: CatalogProduct) => product.categoryIds.includes(id);
    return this.entries.invalidate((_key, entry) => {
      if ('category' in entry) return entry.category.id === id;
      if ('categoryPage' in entry) return true;
      if ('product' in entry) return inIt(entry.product);
      return entry.page.categoryId === id || entry.page.products.some(inIt);
    });
  }
}
