/**
 * `npm run seed`: loads the demo grocery catalog (three locations, categories,
 * products with their stock spread over the locations) into the inventory database
 * (INVENTORY_DATABASE_URL or DATABASE_URL, default the local larder_inventory),
 * through the same domain code the API uses, so every product gets its ledger
 * row and its event. Products whose SKU exists are skipped: running it twice
 * changes nothing.
 */
import { createDatabase } from '#libs/db/knex.js';
import { seedCatalog } from '../services/inventory/operator.js';
import { SEED_CATEGORIES, SEED_LOCATIONS, SEED_PRODUCTS, spreadStock } from './seed/catalog.js';

export async function seedInventory(
  url: string,
  log: (line: string) => void = console.log,
): Promise<{ locations: number; products: number; categories: number }> {
  const db = createDatabase({ url, poolMax: 2, applicationName: 'larder-seed' });
  try {
    const added = await seedCatalog(db, {
      locations: SEED_LOCATIONS,
      categories: SEED_CATEGORIES,
      products: SEED_PRODUCTS.map((product) => ({
        sku: product.sku,
        name: product.name,
        description: product.description,
        price: { currencyCode: 'EUR', minorUnits: product.priceCents },
        lowStockThreshold: product.lowStockThreshold,
        initialStock: 0,
        stockAt: spreadStock(product.stock),
        categoryNames: product.categories,
      })),
    });
    log(
      `seed: added ${added.locations} locations, ${added.categories} categories and ${added.products} products ` +
        `(${SEED_PRODUCTS.length - added.products} already there)`,
    );
    return added;
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
