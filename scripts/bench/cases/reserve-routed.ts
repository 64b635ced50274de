import { randomUUID } from 'node:crypto';
import { InventoryServiceService } from '#libs/contracts/larder/inventory/v1/inventory_service.js';
import { LocationKind } from '#libs/contracts/larder/inventory/v1/locations.js';
import { AdjustmentReason } from '#libs/contracts/larder/inventory/v1/resources.js';
import { databaseName } from '#libs/db/admin.js';
import type { InventoryApi } from './larder.js';
import { grpcCase } from './grpc-load.js';
import type { BenchContext } from './context.js';
import { createProducts, HUGE_STOCK, INVENTORY_ADMIN_KEY, SHAPES } from './larder.js';
import type { TestDatabase } from '#test/support/test-database.js';

/** Four dark stores in Berlin, each delivering to postal codes 10… within 15 km. */
const STORES = [
  { code: 'bench-mitte', latitude: 52.52, longitude: 13.405 },
  { code: 'bench-kreuzberg', latitude: 52.499, longitude: 13.403 },
  { code: 'bench-charlottenburg', latitude: 52.516, longitude: 13.304 },
  { code: 'bench-friedrichshain', latitude: 52.515, longitude: 13.454 },
];

/** Customers spread between the stores, so the nearest store differs from call to call. */
const DESTINATIONS = [
  { postalCode: '10115', latitude: 52.532, longitude: 13.384 },
  { postalCode: '10999', latitude: 52.497, longitude: 13.42 },
  { postalCode: '10585', latitude: 52.513, longitude: 13.3 },
  { postalCode: '10245', latitude: 52.508, longitude: 13.46 },
  { postalCode: '10178', latitude: 52.521, longitude: 13.409 },
];

async function createStores(api: InventoryApi, tag: string): Promise<string[]> {
  const ids: string[] = [];
  for (const store of STORES) {
    const { location } = await api.createLocation({
      location: {
        id: '',
        code: `${store.code}-${tag}`,
        name: store.code,
        kind: LocationKind.LOCATION_KIND_DARK_STORE,
        address: undefined,
        coordinates: { latitude: store.latitude, longitude: store.longitude },
        delivery: true,
        pickup: true,
        deliveryArea: { postalCodePrefixes: ['10'], radiusKm: 15 },
        priority: 0,
        active: true,
        default: false,
        etag: '',
        createTime: undefined,
        updateTime: undefined,
        deleteTime: undefined,
      },
    });
    ids.push(location!.id);
  }
  return ids;
}

/** Each product's stock spread over the stores (none at the default location). */
async function stockEverywhere(api: InventoryApi, productIds: readonly string[], storeIds: readonly string[]): Promise<void> {
  const jobs = productIds.flatMap((productId) => storeIds.map((locationId) => ({ productId, locationId })));
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < jobs.length; i = next++) {
      await api.adjustStock({
        ...jobs[i]!,
        delta: Math.floor(HUGE_STOCK / storeIds.length),
        reason: AdjustmentReason.ADJUSTMENT_REASON_RESTOCK,
        idempotencyKey: randomUUID(),
        note: 'bench',
      });
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

/**
 * ReserveStock routed (docs/design.md §8): the same two shapes as the
 * single-location case, on the same inventory process, with every product at
 * four locations and each call naming a destination all four deliver to.
 */
export async function runRoutedReserveStock(
  ctx: BenchContext,
  api: InventoryApi,
  inventory: { address: string; pid: number },
  database: TestDatabase,
): Promise<void> {
  const storeIds = await createStores(api, Date.now().toString(36));
  for (const shape of SHAPES) {
    const productIds = await createProducts(api, shape.products, `routed-${shape.key}`, 0);
    await stockEverywhere(api, productIds, storeIds);
    const { result } = await grpcCase(ctx.config, {
      id: `reserve-routed-${shape.key}`,
      label: `Larder ReserveStock routed over 4 locations, ${shape.label}`,
      kind: 'larder',
      address: inventory.address,
      path: InventoryServiceService.reserveStock.path,
      apiKey: INVENTORY_ADMIN_KEY,
      request: { kind: 'reserveStockRouted', productIds, destinations: DESTINATIONS },
      pids: { inventory: inventory.pid },
      databases: [databaseName(database.url)],
    });
    ctx.report(result);
  }
}
