import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { insertProduct } from '../../data/products.js';
import { insertStockLevel, recordMovements } from '../../data/stock-levels.js';

/**
 * A run's products, made in one transaction through the data layer, as
 * CreateProduct makes them (product row, a stock row and opening ledger entry
 * at each of the model's locations, by index of `locationIds`) but
 * without a gRPC call and an event each: the model test makes 30,000 of them,
 * and the catalog is not what it tests. The stock conservation check at the
 * end covers their ledger rows too.
 */
export async function freshProducts(
  db: Knex,
  initialStock: readonly (readonly number[])[],
  locationIds: readonly string[],
  now: Date,
): Promise<string[]> {
  const ids = initialStock.map(() => randomUUID());
  await db.transaction(async (trx) => {
    for (const [n, id] of ids.entries()) {
      const name = `Model product ${id}`;
      const price = { currencyCode: 'EUR', minorUnits: 199 };
      await insertProduct(trx, { id, sku: `MODEL-${id}`, name, description: '', price, lowStockThreshold: 0 }, now);
      for (const [l, locationId] of locationIds.entries()) await insertStockLevel(trx, id, locationId, initialStock[n]![l]!, now);
    }
    const opening = ids.flatMap((productId, n) =>
      locationIds.map((locationId, l) => ({
        productId,
        locationId,
        kind: 'INITIAL' as const,
        availableDelta: initialStock[n]![l]!,
        reservedDelta: 0,
        soldDelta: 0,
      })),
    );
    await recordMovements(trx, opening, now);
  });
  return ids;
}
