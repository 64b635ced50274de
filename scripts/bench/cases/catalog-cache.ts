import { databaseName } from '#libs/db/admin.js';
import { InventoryServiceService, ListProductsRequest } from '#libs/contracts/larder/inventory/v1/inventory_service.js';
import { delay, freePort } from '#test/support/free-port.js';
import { findMetric, scrapeMetrics } from '#test/support/scrape.js';
import { withCleanup } from '../cleanup.js';
import type { BenchContext } from './context.js';
import { bulkLoadCatalog } from './catalog.js';
import { grpcCase } from './grpc-load.js';
import { createService, INVENTORY_ADMIN_KEY, inventoryAdmin, inventoryEnv, inventoryOnOwnDatabase } from './larder.js';
import type { RequestShape } from '../load/spec.js';

/** Products in the catalogue (a first page of 100 and GetProduct over the first 1,000 of them). */
const CATALOGUE = 100_000;
const DISTINCT_PRODUCTS = 1_000;

/**
 * The catalog cache (docs/catalog-cache.md): GetProduct over 1,000 products
 * and the first ListProducts page of 100, each on an inventory with the cache
 * on (warm: the warm-up fills it) and on one with CATALOG_CACHE=false, both on
 * one database, in the same run and at the same concurrency. The cached
 * answers still read stock fresh; the hit ratio over each window comes from
 * the cached process's /metrics.
 */
export async function runCatalogCache(ctx: BenchContext): Promise<void> {
  await withCleanup(async (defer) => {
    const metricsPort = await freePort();
    const { database, inventory: cached } = await inventoryOnOwnDatabase(ctx, 'cache', defer, { METRICS_PORT: String(metricsPort) });
    const uncached = await createService(
      ctx,
      'inventory',
      { ...inventoryEnv(database.url), CATALOG_CACHE: 'false' },
      defer,
      'inventory-cache-off',
    );
    await Promise.all([bulkLoadCatalog(database.db, CATALOGUE), cached.process.start(), uncached.process.start()]);
    const ids = (await database.db('products').select('id').orderBy('id').limit(DISTINCT_PRODUCTS)).map((row: { id: string }) => row.id);
    // Warm: one GetProduct of each product on the cached process (the generator's warm-up alone may not reach all 1,000 on a busy machine).
    const api = inventoryAdmin(cached.address, defer);
    for (let i = 0; i < ids.length; i += 50)
      await Promise.all(ids.slice(i, i + 50).map((id) => api.getProduct({ id, showDeleted: false })));
    const firstPage = ListProductsRequest.encode({
      pageSize: 100,
      pageToken: '',
      categoryId: '',
      nameContains: '',
      showDeleted: false,
    }).finish();

    const cases: { key: string; label: string; path: string; request: RequestShape }[] = [
      {
        key: 'get',
        label: `GetProduct over ${DISTINCT_PRODUCTS.toLocaleString('en')} products`,
        path: InventoryServiceService.getProduct.path,
        request: { kind: 'getProduct', productIds: ids },
      },
      {
        key: 'first-page',
        label: 'ListProducts first page of 100',
        path: InventoryServiceService.listProducts.path,
        request: { kind: 'fixed', base64: Buffer.from(firstPage).toString('base64') },
      },
    ];
    const hitsAndMisses = async () => {
      const series = await scrapeMetrics(metricsPort);
      return {
        hits: findMetric(series, 'larder_catalog_cache_hits_total') ?? 0,
        misses: findMetric(series, 'larder_catalog_cache_misses_total') ?? 0,
      };
    };
    for (const item of cases) {
      for (const [mode, service] of [
        ['off', uncached],
        ['warm', cached],
      ] as const) {
        let before: Promise<{ hits: number; misses: number }> | undefined;
        const { result } = await grpcCase(
          ctx.config,
          {
            id: `cache-${item.key}-${mode}`,
            label: `Larder ${item.label}, catalog cache ${mode}`,
            kind: 'larder',
            address: service.address,
            path: item.path,
            apiKey: INVENTORY_ADMIN_KEY,
            request: item.request,
            pids: { inventory: service.process.pid },
            databases: [databaseName(database.url)],
          },
          // The window starts after the warm-up (which fills the cache): count from there.
          {
            beforeGo: async () => void (before = mode === 'warm' ? delay(ctx.config.warmupSeconds * 1000).then(hitsAndMisses) : undefined),
          },
        );
        if (mode === 'warm' && before) {
          const [start, after] = [await before, await hitsAndMisses()];
          const hits = after.hits - start.hits;
          const lookups = hits + after.misses - start.misses;
          result.extra = { ...result.extra, hitRatio: lookups > 0 ? hits / lookups : 0 };
          result.note = [`hit ratio ${((100 * hits) / Math.max(1, lookups)).toFixed(2)} %`, result.note].filter(Boolean).join(', ');
        }
        ctx.report(result);
      }
    }
  });
}
