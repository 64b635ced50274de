import { InventoryServiceService } from '#libs/contracts/larder/inventory/v1/inventory_service.js';
import { findInvariantViolations } from '../../../services/inventory/data/invariants.js';
import { databaseName } from '#libs/db/admin.js';
import { withCleanup } from '../cleanup.js';
import type { BenchContext } from './context.js';
import { grpcCase } from './grpc-load.js';
import { createProducts, INVENTORY_ADMIN_KEY, inventoryAdmin, inventoryOnOwnDatabase, SHAPES } from './larder.js';

/** Larder ReserveStock through the real inventory process: one hot product, then 200; unique order ids. */
export async function runReserveStock(ctx: BenchContext): Promise<void> {
  await withCleanup(async (defer) => {
    const { database, inventory } = await inventoryOnOwnDatabase(ctx, 'reserve', defer);
    await inventory.process.start();
    const api = inventoryAdmin(inventory.address, defer);
    for (const shape of SHAPES) {
      const productIds = await createProducts(api, shape.products, `reserve-${shape.key}`);
      const { result } = await grpcCase(ctx.config, {
        id: `reserve-${shape.key}`,
        label: `Larder ReserveStock, ${shape.label}`,
        kind: 'larder',
        address: inventory.address,
        path: InventoryServiceService.reserveStock.path,
        apiKey: INVENTORY_ADMIN_KEY,
        request: { kind: 'reserveStock', productIds },
        pids: { inventory: inventory.process.pid },
        databases: [databaseName(database.url)],
      });
      ctx.report(result);
    }
    // A fast path that broke stock conservation must not pass as a result.
    const violations = await findInvariantViolations(database.db);
    if (violations.length > 0)
      throw new Error(`inventory invariant broken after ReserveStock load: ${JSON.stringify(violations.slice(0, 3))}`);
  });
}
