import { splitPage } from '#libs/db/keyset-page.js';
import { notFound } from '#libs/errors/app-error.js';
import { findProduct, listProducts } from '../../data/products.js';
import type { InventoryDeps } from '../deps.js';
import type { ProductFilter, ProductRecord } from '../types.js';

export async function getProduct(deps: InventoryDeps, id: string, includeDeleted: boolean): Promise<ProductRecord> {
  const product = await findProduct(deps.db, id, { includeDeleted });
  if (!product) throw notFound('product', id);
  return product;
}

export interface ProductPage {
  products: ProductRecord[];
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
  const rows = await listProducts(deps.db, filter, afterId, pageSize + 1);
  const { page, nextKey } = splitPage(rows, pageSize, (product) => product.id);
  return { products: page, nextAfterId: nextKey };
}
