import type { Migration } from '#libs/db/migrate.js';
import { productsAndStock } from './001-products-and-stock.js';
import { categories } from './002-categories.js';
import { categoryLookupIndex } from './003-category-lookup-index.js';
import { productNameSearchIndex } from './004-product-name-search-index.js';
import { reserveStockBatch } from './005-reserve-stock-batch.js';
import { reserveStockBatchIndexConditions } from './006-reserve-stock-batch-index-conditions.js';
import { outboxTraceContext } from './007-outbox-trace-context.js';
import { locations } from './008-locations.js';
import { stockKeysPerLocation } from './009-stock-keys-per-location.js';

/** Inventory's migrations, oldest first. Append only. */
export const inventoryMigrations: readonly Migration[] = [
  productsAndStock,
  categories,
  categoryLookupIndex,
  productNameSearchIndex,
  reserveStockBatch,
  reserveStockBatchIndexConditions,
  outboxTraceContext,
  locations,
  stockKeysPerLocation,
];
