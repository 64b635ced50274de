import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { insertProduct } from '../../data/products.js';
import { insertStockLevel, recordMovements } from '../../data/stock-levels.js';

/**
 * A run's products, made in one transaction through the data layer, as
 * CreateProduct makes them (product row, stock row, opening ledger entry) but
 * without a gRPC call and an event each: the model test makes 30,000 of them,
 * and the catalog is not what it tests. The stock conservation check at the
 * end covers their ledger rows too.
 */
export async function freshProducts(db: Knex, initialStock: readonly number[], now: Date): Promise<string[]> {
  const ids = initialStock.map(() => randomUUID());
  const { id: locationId } = await db('locations').first('id').where({ is_default: true });
  await db.transaction(async (trx) => {
    for (const [n, id] of ids.entries()) {
      const name = `Model product ${id}`;
      const price = { currencyCode: 'EUR', minorUnits: 199 };
      await insertProduct(trx, { id, sku: `MODEL-${id}`, name, description: '', price, lowStockThreshold: 0 }, now);
      await insertStockLevel(trx, id, locationId, initialStock[n]!, now);
    }
    const opening = ids.map((productId, n) => ({
      productId,
      locationId,
      kind: 'INITIAL' as const,
      availableDelta: initialStock[n]!,
      reservedDelta: 0,
      soldDelta: 0,
    }));
    await recordMovements(trx, opening, now);
  });
  return ids;
}
