import { InventoryServiceService } from '#libs/contracts/larder/inventory/v1/inventory_service.js';
import { databaseName } from '#libs/db/admin.js';
import { withCleanup } from '../cleanup.js';
import type { BenchContext } from './context.js';
import { grpcCase } from './grpc-load.js';
import { runRoutedReserveStock } from './reserve-routed.js';
import { assertInventoryInvariant, createProducts, INVENTORY_ADMIN_KEY, inventoryAdmin, inventoryOnOwnDatabase, SHAPES } from './larder.js';

/**
 * Larder ReserveStock through the real inventory process: one hot product, then
 * 200; unique order ids. Then the same routed over four locations
 * (reserve-routed.ts), on the same process.
 */
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
    await runRoutedReserveStock(ctx, api, { address: inventory.address, pid: inventory.process.pid! }, database);
    await assertInventoryInvariant(database.db, 'ReserveStock load');
  });
}
