import { join } from 'node:path';
import type { Knex } from 'knex';
import * as inventoryMessages from '#libs/contracts/larder/inventory/v1/inventory_service.js';
import { InventoryServiceService } from '#libs/contracts/larder/inventory/v1/inventory_service.js';
import { createPromiseClient, type PromiseClient } from '#libs/grpc/client.js';
import { freePort } from '#test/support/free-port.js';
import { startOtlpReceiver } from '#test/support/otlp-receiver.js';
import { serviceProcess, type ServiceProcess } from '#test/support/service-process.js';
import { checkStockInvariant, inventoryMigrations } from '../../../services/inventory/operator.js';
import type { TestDatabase } from '#test/support/test-database.js';
import { throwawayDatabase, type BenchContext } from './context.js';

export const INVENTORY_ADMIN_KEY = 'dev-inventory-admin-key';
export const ORDER_ADMIN_KEY = 'dev-order-admin-key';

export type InventoryApi = PromiseClient<typeof InventoryServiceService>;

export interface RunningService {
  process: ServiceProcess;
  address: string;
}

/**
 * A Larder service as a real process (its own event loop, as in production),
 * with the committed defaults except what a bench must fix: quiet logs, a free
 * metrics port, the run's NATS. Not started yet (the caller starts it, maybe
 * alongside another); stopped by the caller's cleanup scope.
 */
export async function createService(
  ctx: BenchContext,
  service: 'inventory' | 'order',
  env: Record<string, string>,
  defer: (undo: () => Promise<unknown>) => void,
  logName: string = service,
): Promise<RunningService> {
  const port = await freePort();
  const process = serviceProcess(
    `services/${service}/main.ts`,
    port,
    { LOG_LEVEL: 'warn', METRICS_PORT: '0', NATS_URL: ctx.natsUrl, ...(await tracingEnv(ctx, defer)), ...env },
    join(ctx.logDir, `${logName}.log`),
    ctx.config.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${ctx.config.profileDir}`] : [],
  );
  defer(() => process.stop());
  return { process, address: `127.0.0.1:${port}` };
}

/** BENCH_TRACING=1: the OTEL_* settings that turn tracing on, exporting to a sink of the service's own. */
async function tracingEnv(ctx: BenchContext, defer: (undo: () => Promise<unknown>) => void): Promise<Record<string, string>> {
  if (!ctx.config.tracing) return {};
  const sink = await startOtlpReceiver({ keepBodies: false });
  defer(() => sink.close());
  return { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint };
}

/** An inventory process on a throwaway, migrated database of its own, not started yet; `name` tags both and the log file. */
export async function inventoryOnOwnDatabase(
  ctx: BenchContext,
  name: string,
  defer: (undo: () => Promise<unknown>) => void,
  env: Record<string, string> = {},
): Promise<{ database: TestDatabase; inventory: RunningService }> {
  const database = await throwawayDatabase(`bench_${name}`, inventoryMigrations, defer);
  const inventory = await createService(ctx, 'inventory', { ...inventoryEnv(database.url), ...env }, defer, `inventory-${name}`);
  return { database, inventory };
}

/** What an inventory process under load is given: its database, and the periodic invariant scan off (a background job; a bench of the request path leaves it off). */
export const inventoryEnv = (databaseUrl: string): Record<string, string> => ({
  DATABASE_URL: databaseUrl,
  INVARIANT_CHECK_INTERVAL_MS: '0',
});

/** A grpc-js client for setup calls (not for load: the generator does that). */
export function inventoryAdmin(address: string, defer: (undo: () => Promise<unknown>) => void): InventoryApi {
  const api = createPromiseClient(InventoryServiceService, inventoryMessages, address, { defaults: { apiKey: INVENTORY_ADMIN_KEY } });
  defer(async () => api.close());
  return api;
}

/** The most stock one CreateProduct accepts: enough that no bench window runs a product out. */
export const HUGE_STOCK = 1_000_000;

/** `count` products through the real API, each with `stock` units, a few calls at a time; returns their ids in order. */
export async function createProducts(api: InventoryApi, count: number, tag: string, stock = HUGE_STOCK): Promise<string[]> {
  const ids: string[] = new Array<string>(count);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      const { product } = await api.createProduct({
        product: {
          sku: `BENCH-${tag}-${i}-${Date.now().toString(36)}`,
          name: `Bench ${tag} ${i}`,
          price: { currencyCode: 'EUR', minorUnits: 100 },
        },
        initialStock: stock,
      });
      ids[i] = product!.id;
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return ids;
}

/** The two shapes of every Larder load case. */
export const SHAPES = [
  { key: 'hot', label: 'one hot product', products: 1 },
  { key: '200', label: '200 products', products: 200 },
] as const;

/** Fails the run when the inventory invariant broke: a fast path that broke stock conservation must not pass as a result. */
export async function assertInventoryInvariant(db: Knex, after: string): Promise<void> {
  const { violations } = await checkStockInvariant(db);
  if (violations.length > 0) throw new Error(`inventory invariant broken after ${after}: ${JSON.stringify(violations.slice(0, 3))}`);
}
