/**
 * The inventory's front door for operator scripts: the only module of this
 * service that scripts/ may import (.dependency-cruiser.cjs, rule
 * scripts-through-front-door). What a script needs of a running inventory goes
 * through its gRPC API; what it needs of the code or the database (config
 * defaults, migrations, the API's policy tables, the seed, the invariant check,
 * the reconciler's reads) is here, at the level a script uses it, so the
 * service's layers can change without breaking scripts.
 */
import { AppError } from '#libs/errors/app-error.js';
import type { Pool } from '#libs/db/types.js';
import type { Money } from '#libs/money/money.js';
import { findCategoryByName } from './data/categories.js';
import { countProducts, findInvariantViolations, type InvariantViolation } from './data/invariants.js';
import { createCategory } from './domain/catalog/create-category.js';
import { createProduct } from './domain/catalog/create-product.js';
import { createLocation } from './domain/locations/create-location.js';
import type { NewLocation } from './domain/location-types.js';
import { adjustStock } from './domain/stock/adjust-stock.js';
import type { ProductRecord } from './domain/types.js';
import { plainInventoryDeps } from './plain-deps.js';

export { readInventoryConfig, type InventoryConfig } from './config.js';
export { inventoryMigrations } from './migrations/index.js';
/** The API's policy, for its reference (scripts/api-docs): the scope and the error reasons of each RPC. */
export { inventoryRpcs } from './transport/rpcs.js';
/** The reconciler's reads (scripts/reconcile): reservations in order-id pages, restocks by idempotency key. */
export {
  readAdjustmentsByKey,
  readReservationAllocationsOf,
  readReservationsAfter,
  type ReservationSnapshot,
} from './data/reconciliation.js';
export type { ReservationStatus } from './domain/types.js';
export type { InvariantViolation };

/** What check:invariants, the demo and the bench report: docs/design.md §2's conservation invariant per product. */
export interface StockInvariantReport {
  /** Products checked. */
  products: number;
  /** Empty when the invariant holds. */
  violations: InvariantViolation[];
}

/** Checks the stock conservation invariant on a live database (one read-only snapshot; safe under traffic). */
export async function checkStockInvariant(db: Pool): Promise<StockInvariantReport> {
  const violations = await findInvariantViolations(db);
  return { products: await countProducts(db), violations };
}

/** A catalog to seed: locations by code, categories by name, products naming their categories and where their stock is. */
export interface SeedCatalog {
  locations?: readonly Omit<NewLocation, 'id'>[];
  categories: readonly { name: string; description: string }[];
  products: readonly {
    sku: string;
    name: string;
    description: string;
    price: Money;
    lowStockThreshold: number;
    /** Units at the default location. */
    initialStock: number;
    /** Units restocked at other locations, by location code. */
    stockAt?: Readonly<Record<string, number>>;
    categoryNames: readonly string[];
  }[];
}

/**
 * Seeds a catalog through the same use cases the API runs, so every product
 * gets its ledger rows and its events. Locations whose code exists, categories
 * whose name exists and products whose SKU exists are left as they are:
 * seeding twice adds nothing. Returns what it added.
 */
export async function seedCatalog(db: Pool, catalog: SeedCatalog): Promise<{ locations: number; categories: number; products: number }> {
  const deps = plainInventoryDeps(db);
  const ctx = { correlationId: 'seed' };
  const added = { locations: 0, categories: 0, products: 0 };
  for (const location of catalog.locations ?? []) {
    try {
      await createLocation(deps, ctx, location);
      added.locations += 1;
    } catch (error) {
      if (!(error instanceof AppError && error.kind === 'alreadyExists')) throw error;
    }
  }
  const locationIds = new Map((await deps.locations.all()).map((l) => [l.code, l.id]));
  const categoryIds = new Map<string, string>();
  for (const category of catalog.categories) {
    const existing = await findCategoryByName(db, category.name);
    if (existing) categoryIds.set(category.name, existing.id);
    else {
      categoryIds.set(category.name, (await createCategory(deps, ctx, category)).id);
      added.categories += 1;
    }
  }
  for (const { categoryNames, stockAt = {}, ...product } of catalog.products) {
    let created: ProductRecord;
    try {
      created = await createProduct(deps, ctx, { ...product, categoryIds: categoryNames.map((name) => categoryIds.get(name)!) });
      added.products += 1;
    } catch (error) {
      if (!(error instanceof AppError && error.kind === 'alreadyExists')) throw error;
      continue;
    }
    for (const [code, units] of Object.entries(stockAt)) {
      const locationId = locationIds.get(code);
      if (!locationId || units <= 0) continue;
      const restock = { productId: created.id, locationId, delta: units, reason: 'RESTOCK' as const, note: 'seed' };
      await adjustStock(deps, ctx, { ...restock, idempotencyKey: `seed-${product.sku}-${code}` });
    }
  }
  return added;
}
