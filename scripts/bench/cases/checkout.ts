import type { Knex } from 'knex';
import { OrderServiceService } from '#libs/contracts/larder/order/v1/order_service.js';
import { delay } from '#test/support/free-port.js';
import { orderMigrations } from '../../../services/order/operator.js';
import { databaseName } from '#libs/db/admin.js';
import { withCleanup } from '../cleanup.js';
import { throwawayDatabase, type BenchContext } from './context.js';
import { grpcCase, type GrpcCase } from './grpc-load.js';
import type { CaseResult } from '../result.js';
import {
  assertInventoryInvariant,
  createProducts,
  createService,
  inventoryAdmin,
  inventoryOnOwnDatabase,
  ORDER_ADMIN_KEY,
  SHAPES,
} from './larder.js';

/** Orders by status, from the order service's own database. */
async function statusCounts(db: Knex): Promise<Record<string, number>> {
  const rows: { status: string; n: string }[] = await db('orders').select('status').count({ n: '*' }).groupBy('status');
  return Object.fromEntries(rows.map((row) => [row.status, Number(row.n)]));
}

const diff = (after: Record<string, number>, before: Record<string, number>, status: string) =>
  (after[status] ?? 0) - (before[status] ?? 0);
const UNSETTLED = ['PENDING', 'AWAITING_STOCK', 'RESERVED'];

/**
 * One CreateOrder load case against order processes whose database is
 * `orderDb`: accepted/s and accept latency from the generator, confirmed/s as
 * the growth of CONFIRMED orders over the measured window; then a bounded wait
 * for the backlog to settle, failed and unsettled orders counted as errors.
 */
export async function measureCheckout(ctx: BenchContext, orderDb: Knex, what: string, spec: GrpcCase): Promise<CaseResult> {
  const before = await statusCounts(orderDb);
  let windowStart: Promise<{ at: number; counts: Record<string, number> }> | undefined;
  const { result } = await grpcCase(ctx.config, spec, {
    // The window opens after the generator's warm-up: count CONFIRMED from then.
    beforeGo: async () => {
      windowStart = delay(ctx.config.warmupSeconds * 1000).then(async () => ({
        at: performance.now(),
        counts: await statusCounts(orderDb),
      }));
    },
  });
  const end = { at: performance.now(), counts: await statusCounts(orderDb) };
  const start = await windowStart!;
  const confirmedPerSecond = diff(end.counts, start.counts, 'CONFIRMED') / ((end.at - start.at) / 1000);

  const drainStarted = Date.now();
  const drainDeadline = drainStarted + ctx.config.drainSeconds * 1000;
  let settled = await statusCounts(orderDb);
  while (UNSETTLED.some((status) => (settled[status] ?? 0) > 0) && Date.now() < drainDeadline) {
    await delay(250);
    settled = await statusCounts(orderDb);
  }
  const failedOrders = diff(settled, before, 'FAILED') + diff(settled, before, 'CANCELLED');
  const unsettled = UNSETTLED.reduce((sum, status) => sum + (settled[status] ?? 0), 0);
  result.errors += failedOrders + unsettled;
  console.log(`  (${what}: backlog settled in ${((Date.now() - drainStarted) / 1000).toFixed(1)} s)`);
  result.extra = {
    ...result.extra,
    acceptedPerSecond: result.rps,
    confirmedPerSecond,
    failedOrders,
    unsettled,
    grpcErrors: result.errors - failedOrders - unsettled,
  };
  result.note = [
    `${confirmedPerSecond.toFixed(0)} confirmed/s`,
    failedOrders ? `${failedOrders} failed/cancelled` : '',
    unsettled ? `${unsettled} unsettled after ${ctx.config.drainSeconds} s` : '',
    result.note,
  ]
    .filter(Boolean)
    .join(', ');
  return result;
}

/**
 * Larder checkout end to end: both services as processes, CreateOrder with
 * tok_ok and an instant payment simulator. Accepted/s and accept latency come
 * from the generator; confirmed/s is the growth of CONFIRMED orders in the
 * order database over the measured window (measureCheckout).
 */
export async function runCheckout(ctx: BenchContext): Promise<void> {
  await withCleanup(async (defer) => {
    const { database: inventoryDb, inventory } = await inventoryOnOwnDatabase(ctx, 'checkout', defer);
    const orderDb = await throwawayDatabase('bench_co_order', orderMigrations, defer);
    const order = await createService(
      ctx,
      'order',
      { DATABASE_URL: orderDb.url, INVENTORY_ADDR: inventory.address, PAYMENT_LATENCY_MS: '0' },
      defer,
    );
    // The order service reaches inventory lazily: both can start at once.
    await Promise.all([inventory.process.start(), order.process.start()]);
    const api = inventoryAdmin(inventory.address, defer);
    for (const shape of SHAPES) {
      const productIds = await createProducts(api, shape.products, `checkout-${shape.key}`);
      const result = await measureCheckout(ctx, orderDb.db, shape.label, {
        // Traced runs are cases of their own, so a results table shows both side by side.
        id: `checkout-${shape.key}${ctx.config.tracing ? '-traced' : ''}`,
        label: `Larder checkout → CONFIRMED, ${shape.label}${ctx.config.tracing ? ' (traced)' : ''}`,
        kind: 'larder',
        address: order.address,
        path: OrderServiceService.createOrder.path,
        apiKey: ORDER_ADMIN_KEY,
        request: { kind: 'createOrder', productIds },
        pids: { inventory: inventory.process.pid, order: order.process.pid },
        databases: [databaseName(inventoryDb.url), databaseName(orderDb.url)],
      });
      ctx.report(result);
    }
    await assertInventoryInvariant(inventoryDb.db, 'checkout load');
  });
}
