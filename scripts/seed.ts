/**
 * `npm run seed`: loads the demo grocery catalog into the inventory database
 * (INVENTORY_DATABASE_URL or DATABASE_URL, default the local larder_inventory),
 * through the same domain code the API uses, so every product gets its ledger
 * row and its event. Products whose SKU exists are skipped: running it twice
 * changes nothing.
 */
import { createDatabase } from '#libs/db/knex.js';
import { inventoryEvents } from '../services/inventory/contract/inventory-events.js';
import { AppError } from '#libs/errors/app-error.js';
import { findCategoryByName } from '../services/inventory/data/categories.js';
import { createCategory } from '../services/inventory/domain/catalog/create-category.js';
import { createProduct } from '../services/inventory/domain/catalog/create-product.js';
import type { InventoryDeps } from '../services/inventory/domain/deps.js';
import { systemClock } from '#libs/timers/clock.js';
import { SEED_CATEGORIES, SEED_PRODUCTS } from './seed/catalog.js';

export async function seedInventory(
  url: string,
  log: (line: string) => void = console.log,
): Promise<{ products: number; categories: number }> {
  const db = createDatabase({ url, poolMax: 2, applicationName: 'larder-seed' });
  const deps: InventoryDeps = {
    db,
    clock: systemClock,
    events: inventoryEvents,
    afterCommit: () => undefined,
    defaultReservationTtlMs: 15 * 60_000,
  };
  const ctx = { correlationId: 'seed' };
  let products = 0;
  let categories = 0;
  try {
    const categoryIds = new Map<string, string>();
    for (const category of SEED_CATEGORIES) {
      const existing = await findCategoryByName(db, category.name);
      if (existing) categoryIds.set(category.name, existing.id);
      else {
        categoryIds.set(category.name, (await createCategory(deps, category)).id);
        categories += 1;
      }
    }
    for (const product of SEED_PRODUCTS) {
      try {
        await createProduct(deps, ctx, {
          sku: product.sku,
          name: product.name,
          description: product.description,
          price: { currencyCode: 'EUR', minorUnits: product.priceCents },
          lowStockThreshold: product.lowStockThreshold,
          initialStock: product.stock,
          categoryIds: product.categories.map((name) => categoryIds.get(name)!),
        });
        products += 1;
      } catch (error) {
        if (!(error instanceof AppError && error.kind === 'alreadyExists')) throw error;
      }
    }
    log(`seed: added ${categories} categories and ${products} products (${SEED_PRODUCTS.length - products} already there)`);
    return { products, categories };
  } finally {
    await db.destroy();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const url = process.env.INVENTORY_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/larder_inventory';
  seedInventory(url).catch((error: unknown) => {
    console.error(`seed failed: ${(error as Error).message}`);
    process.exit(1);
  });
}
