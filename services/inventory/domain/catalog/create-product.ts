import { alreadyExists } from '#libs/errors/app-error.js';
import { appendToOutbox } from '#libs/events/outbox.js';
import { uuidv7 } from '#libs/ids/uuid.js';
import { findProduct, insertProduct } from '../../data/products.js';
import { isUniqueViolation } from '../../data/rows.js';
import { insertStockLevel, recordMovements } from '../../data/stock-levels.js';
import { inTransaction } from '#libs/db/in-transaction.js';
import type { RequestContext } from '#libs/context/request-context.js';
import { type InventoryDeps } from '../deps.js';
import { replaceProductCategories } from './product-categories.js';
import type { NewProduct, ProductRecord } from '../types.js';

export interface CreateProductCommand extends Omit<NewProduct, 'id'> {
  initialStock: number;
  categoryIds: string[];
}

/** Creates the product, its stock row and its opening ledger entry, and announces it. */
export async function createProduct(deps: InventoryDeps, ctx: RequestContext, command: CreateProductCommand): Promise<ProductRecord> {
  const now = deps.clock.now();
  const id = uuidv7(now.getTime());
  // Its stock starts at the default location (docs/design.md §8); AdjustStock and transfers put it elsewhere.
  const locationId = (await deps.locations.defaultLocation()).id;
  try {
    const created = await inTransaction(deps, async (trx) => {
      await insertProduct(trx, { ...command, id }, now);
      await insertStockLevel(trx, id, locationId, command.initialStock, now);
      await recordMovements(
        trx,
        [{ productId: id, locationId, kind: 'INITIAL', availableDelta: command.initialStock, reservedDelta: 0, soldDelta: 0 }],
        now,
      );
      if (command.categoryIds.length > 0) await replaceProductCategories(trx, id, command.categoryIds);
      const product = (await findProduct(trx, id))!;
      await appendToOutbox(trx, [deps.events.productCreated({ correlationId: ctx.correlationId, now }, product)]);
      return product;
    });
    deps.catalogCache?.productChanged(id);
    return created;
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw alreadyExists(`a product with sku "${command.sku}" already exists`, {
        reason: 'SKU_TAKEN',
        field: 'product.sku',
        metadata: { sku: command.sku },
      });
    }
    throw error;
  }
}
