import { InventoryServiceService } from '#libs/contracts/larder/inventory/v1/inventory_service.js';
import { OrderServiceService } from '#libs/contracts/larder/order/v1/order_service.js';
import { databaseName } from '#libs/db/admin.js';
import { inventoryMigrations } from '../../../services/inventory/operator.js';
import { orderMigrations } from '../../../services/order/operator.js';
import { withCleanup } from '../cleanup.js';
import { samplePgConnections } from '../pg-connections.js';
import { scaleFigures } from '../report/scaling.js';
import type { CaseResult } from '../result.js';
import { measureCheckout } from './checkout.js';
import { throwawayDatabase, type BenchContext } from './context.js';
import { grpcCase, type GrpcCase } from './grpc-load.js';
import {
  assertInventoryInvariant,
  createProducts,
  createService,
  INVENTORY_ADMIN_KEY,
  inventoryAdmin,
  inventoryEnv,
  ORDER_ADMIN_KEY,
  type RunningService,
} from './larder.js';

/** The replica counts compared, at the same total calls in flight. */
export const SCALE_REPLICAS = [1, 2] as const;
const PRODUCTS = 200;
/** Each process's pool, pinned at the committed default (DB_POOL_MAX) so the connection figures are known whatever the shell sets. */
const POOL_MAX = 10;

type Defer = (undo: () => Promise<unknown>) => void;

/** `count` processes of one service on one database (and the run's one NATS), started together. */
async function replicas(
  ctx: BenchContext,
  service: 'inventory' | 'order',
  count: number,
  env: (i: number) => Record<string, string>,
  defer: Defer,
): Promise<RunningService[]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      createService(ctx, service, { DB_POOL_MAX: String(POOL_MAX), ...env(i) }, defer, `${service}-scale-${count}-${i + 1}`),
    ),
  );
}

const pidsOf = (name: string, running: readonly RunningService[]) =>
  Object.fromEntries(running.map((r, i) => [`${name}-${i + 1}`, r.process.pid]));

/**
 * Runs one case with pg_stat_activity sampled meanwhile, and adds the scaling
 * figures (CPU per call by process group, PostgreSQL's share, connections).
 */
async function measured(
  spec: GrpcCase,
  processes: number,
  defer: Defer,
  run: (spec: GrpcCase) => Promise<CaseResult>,
): Promise<CaseResult> {
  const connections = samplePgConnections(spec.databases ?? []);
  defer(() => connections.stop());
  const result = await run(spec);
  return scaleFigures(result, await connections.stop(), processes * POOL_MAX);
}

/** ReserveStock over 200 products from `count` inventory processes on one database, the calls spread over them. */
async function reserveWith(ctx: BenchContext, count: number): Promise<CaseResult> {
  return withCleanup(async (defer) => {
    const database = await throwawayDatabase('bench_scale_inv', inventoryMigrations, defer);
    const inventories = await replicas(ctx, 'inventory', count, () => inventoryEnv(database.url), defer);
    await Promise.all(inventories.map((r) => r.process.start()));
    const productIds = await createProducts(inventoryAdmin(inventories[0]!.address, defer), PRODUCTS, `scale-reserve-${count}`);
    const spec: GrpcCase = {
      id: `scale-reserve-${count}`,
      label: `Larder ReserveStock, 200 products, ${count} inventory process${count > 1 ? 'es' : ''} on one PostgreSQL`,
      kind: 'larder',
      address: inventories.map((r) => r.address),
      path: InventoryServiceService.reserveStock.path,
      apiKey: INVENTORY_ADMIN_KEY,
      request: { kind: 'reserveStock', productIds },
      pids: pidsOf('inventory', inventories),
      databases: [databaseName(database.url)],
    };
    const result = await measured(spec, count, defer, async (s) => (await grpcCase(ctx.config, s)).result);
    await assertInventoryInvariant(database.db, `ReserveStock load on ${count} inventory processes`);
    return result;
  });
}

/**
 * CreateOrder over 200 products from `count` order and `count` inventory
 * processes (one database each, shared by the replicas). Order replica i calls
 * inventory replica i: INVENTORY_ADDR takes one address on this commit, so
 * the replicas are paired rather than each balancing over every inventory.
 */
async function checkoutWith(ctx: BenchContext, count: number): Promise<CaseResult> {
  return withCleanup(async (defer) => {
    const [inventoryDb, orderDb] = await Promise.all([
      throwawayDatabase('bench_scale_inv', inventoryMigrations, defer),
      throwawayDatabase('bench_scale_order', orderMigrations, defer),
    ]);
    const inventories = await replicas(ctx, 'inventory', count, () => inventoryEnv(inventoryDb.url), defer);
    const orders = await replicas(
      ctx,
      'order',
      count,
      (i) => ({ DATABASE_URL: orderDb.url, INVENTORY_ADDR: inventories[i]!.address, PAYMENT_LATENCY_MS: '0' }),
      defer,
    );
    // The order service reaches inventory lazily: all can start at once.
    await Promise.all([...inventories, ...orders].map((r) => r.process.start()));
    const productIds = await createProducts(inventoryAdmin(inventories[0]!.address, defer), PRODUCTS, `scale-checkout-${count}`);
    const spec: GrpcCase = {
      id: `scale-checkout-${count}`,
      label: `Larder checkout → CONFIRMED, 200 products, ${count} order + ${count} inventory process${count > 1 ? 'es (paired)' : ''}`,
      kind: 'larder',
      address: orders.map((r) => r.address),
      path: OrderServiceService.createOrder.path,
      apiKey: ORDER_ADMIN_KEY,
      request: { kind: 'createOrder', productIds },
      pids: { ...pidsOf('inventory', inventories), ...pidsOf('order', orders) },
      databases: [databaseName(inventoryDb.url), databaseName(orderDb.url)],
    };
    const result = await measured(spec, 2 * count, defer, (s) => measureCheckout(ctx, orderDb.db, s.label, s));
    await assertInventoryInvariant(inventoryDb.db, `checkout load on ${count} order + ${count} inventory processes`);
    return result;
  });
}

/**
 * Where one PostgreSQL stops: the same load (200 products, the run's calls in
 * flight) on 1 and then 2 service processes sharing one database server and
 * one NATS, each configuration on fresh databases. The rows' CPU per call,
 * split into services and PostgreSQL, say what more service replicas could
 * reach at most: 1000 ms over PostgreSQL's ms per call, per PostgreSQL core.
 */
export async function runScale(ctx: BenchContext): Promise<void> {
  for (const count of SCALE_REPLICAS) ctx.report(await reserveWith(ctx, count));
  for (const count of SCALE_REPLICAS) ctx.report(await checkoutWith(ctx, count));
}
