import { randomUUID } from 'node:crypto';
import type * as inventoryMessages from '#libs/contracts/larder/inventory/v1/inventory_service.js';
import { AdjustmentReason } from '#libs/contracts/larder/inventory/v1/resources.js';

/** What stockAt needs of an inventory client: AdjustStock. */
interface AdjustsStock {
  adjustStock(request: inventoryMessages.AdjustStockRequest): Promise<unknown>;
}

/** Restocks `units` of a product at a location through the inventory API (a fresh idempotency key each time). */
export async function stockAt(api: AdjustsStock, productId: string, locationId: string, units: number): Promise<void> {
  await api.adjustStock({
    productId,
    locationId,
    delta: units,
    reason: AdjustmentReason.ADJUSTMENT_REASON_RESTOCK,
    idempotencyKey: randomUUID(),
    note: '',
  });
}
