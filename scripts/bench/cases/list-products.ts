import { databaseName } from '#libs/db/admin.js';
import { InventoryServiceService, ListProductsRequest } from '#libs/contracts/larder/inventory/v1/inventory_service.js';
import { encodePageToken } from '#libs/validation/page-token.js';
import { withCleanup } from '../cleanup.js';
import type { BenchContext } from './context.js';
import { bulkLoadCatalog, RARE_QUERY } from './catalog.js';
import { grpcCase } from './grpc-load.js';
import { INVENTORY_ADMIN_KEY, inventoryAdmin, inventoryOnOwnDatabase } from './larder.js';

const PAGE_SIZE = 100;

const base64 = (request: ListProductsRequest) => Buffer.from(ListProductsRequest.encode(request).finish()).toString('base64');

/**
 * ListProducts on a catalogue of BENCH_CATALOG_PRODUCTS (1M) products
 * bulk-loaded with SQL: the first page, a deep page (90 % in), and a name
 * search for a name only one product has, with the catalog cache off. Sequential calls (one in flight):
 * this is latency, not throughput.
 */
export async function runListProducts(ctx: BenchContext): Promise<void> {
  await withCleanup(async (defer) => {
    const count = ctx.config.catalogProducts;
    // The database's path (keyset plans at 1M): the catalog cache would answer these repeated pages itself (the cache group measures it).
    const { database, inventory } = await inventoryOnOwnDatabase(ctx, 'catalog', defer, { CATALOG_CACHE: 'false' });
    const loadStarted = performance.now();
    // The service starts while the catalogue loads (it sits idle); only the calls after both are timed.
    const [loadSeconds] = await Promise.all([
      bulkLoadCatalog(database.db, count).then(() => (performance.now() - loadStarted) / 1000),
      inventory.process.start(),
    ]);
    console.log(`  (loaded ${count.toLocaleString('en')} products in ${loadSeconds.toFixed(1)} s)`);

    // A deep page's token, built as the service builds it: the key to continue after, and the filter it belongs to.
    const deepOffset = Math.floor(count * 0.9);
    const { id: afterId } = await database.db('products').select('id').orderBy('id').offset(deepOffset).first();
    const noFilter = { categoryId: undefined, nameContains: undefined, includeDeleted: false };
    const deepToken = encodePageToken(afterId as string, noFilter);

    // Check each request answers what it should before timing it: a refused token would time an error.
    const api = inventoryAdmin(inventory.address, defer);
    const deep = await api.listProducts({
      pageSize: PAGE_SIZE,
      pageToken: deepToken,
      categoryId: '',
      nameContains: '',
      showDeleted: false,
    });
    const found = await api.listProducts({
      pageSize: PAGE_SIZE,
      pageToken: '',
      categoryId: '',
      nameContains: RARE_QUERY,
      showDeleted: false,
    });
    if (deep.products.length !== PAGE_SIZE) throw new Error(`deep page returned ${deep.products.length} products, not ${PAGE_SIZE}`);
    if (found.products.length !== 1) throw new Error(`name search for "${RARE_QUERY}" found ${found.products.length} products, not 1`);

    const cases = [
      {
        key: 'first',
        label: 'first page of 100',
        request: { pageSize: PAGE_SIZE, pageToken: '', categoryId: '', nameContains: '', showDeleted: false },
      },
      {
        key: 'deep',
        label: `deep page (after ${deepOffset.toLocaleString('en')})`,
        request: { pageSize: PAGE_SIZE, pageToken: deepToken, categoryId: '', nameContains: '', showDeleted: false },
      },
      {
        key: 'search',
        label: `name_contains "${RARE_QUERY}" (1 match)`,
        request: { pageSize: PAGE_SIZE, pageToken: '', categoryId: '', nameContains: RARE_QUERY, showDeleted: false },
      },
    ];
    const millions = count >= 1_000_000 ? `${count / 1_000_000}M` : count.toLocaleString('en');
    for (const item of cases) {
      const { result } = await grpcCase(ctx.config, {
        id: `list-${item.key}`,
        label: `Larder ListProducts at ${millions}, ${item.label}`,
        kind: 'larder',
        address: inventory.address,
        path: InventoryServiceService.listProducts.path,
        apiKey: INVENTORY_ADMIN_KEY,
        request: { kind: 'fixed', base64: base64(item.request) },
        pids: { inventory: inventory.process.pid },
        databases: [databaseName(database.url)],
        concurrency: 1,
      });
      result.extra = { ...result.extra, catalogProducts: count, loadSeconds };
      result.note = [`sequential`, result.note].filter(Boolean).join(', ');
      ctx.report(result);
    }
  });
}
