import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { databaseName } from '#libs/db/admin.js';
import { OrderStatus } from '#libs/contracts/larder/order/v1/resources.js';
import { startThrowawayPgBouncer, type ThrowawayPgBouncer } from '#test/support/pgbouncer.js';
import { createProduct, hasStatus, inventoryViolations, startSystem, stockOf, waitForOrder, type TestSystem } from './system.js';

const CALLERS = 64;
const ORDERS_PER_CALLER = 4;
const PRODUCTS = 4;
const STOCK = 100;
/** Fewer server connections than either service's pool (DB_POOL_MAX 10): PgBouncer multiplexes. */
const SERVER_CONNECTIONS = 4;

interface StatsRow {
  database: string;
  total_xact_count: string;
}
interface PoolRow {
  database: string;
  cl_active: string;
  cl_waiting: string;
  sv_active: string;
  sv_idle: string;
  sv_used: string;
  sv_tested: string;
  sv_login: string;
}

/** Log lines at level error or fatal in one process's log (pino JSON, levels written as labels). */
function errorLines(logFile: string): string[] {
  return readFileSync(logFile, 'utf8')
    .split('\n')
    .filter((line) => /"level":"(error|fatal)"/.test(line));
}

describe('both services through PgBouncer (transaction mode, DATABASE_PREPARED_STATEMENTS=false)', function () {
  this.timeout(90_000);
  let bouncer: ThrowawayPgBouncer;
  let system: TestSystem;
  before(async () => {
    bouncer = await startThrowawayPgBouncer({ defaultPoolSize: SERVER_CONNECTIONS });
    system = await startSystem({ pgbouncer: bouncer });
  });
  after(async () => {
    await system?.stop();
    await bouncer?.destroy();
  });

  const xactCounts = async () => {
    const rows = await bouncer.admin<StatsRow>('SHOW STATS');
    const of = (url: string) => Number(rows.find((r) => r.database === databaseName(url))?.total_xact_count ?? 0);
    return { inventory: of(system.inventoryDb.url), order: of(system.orderDb.url) };
  };

  it(`confirms a burst of ${CALLERS} callers × ${ORDERS_PER_CALLER} checkouts with no error, stock exact`, async () => {
    const products = await Promise.all(Array.from({ length: PRODUCTS }, () => createProduct(system, STOCK)));
    const before = await xactCounts();
    const started = Date.now();
    const ids = (
      await Promise.all(
        Array.from({ length: CALLERS }, async (_, caller) => {
          const customerId = randomUUID();
          const placed: string[] = [];
          for (let round = 0; round < ORDERS_PER_CALLER; round++) {
            const productId = products[(caller + round) % PRODUCTS]!.id;
            await system.carts.addCartItem({ customerId, productId, quantity: 1 });
            const { order } = await system.orders.checkout({ customerId, idempotencyKey: randomUUID(), paymentToken: 'tok_ok' });
            placed.push(order!.id);
          }
          return placed;
        }),
      )
    ).flat();
    const burstMs = Date.now() - started;
    for (const id of ids) await waitForOrder(system, id, hasStatus(OrderStatus.ORDER_STATUS_CONFIRMED), 30_000);
    console.log(`      ${ids.length} checkouts: burst ${burstMs} ms, all CONFIRMED ${Date.now() - started} ms after its start`);

    expect(new Set(ids).size).to.equal(CALLERS * ORDERS_PER_CALLER);
    const perProduct = (CALLERS * ORDERS_PER_CALLER) / PRODUCTS;
    for (const product of products) {
      expect(await stockOf(system, product.id)).to.include({ available: STOCK - perProduct, reserved: 0, sold: perProduct });
    }
    for (const id of ids) expect(system.paymentCalls(id), `gateway calls of order ${id}`).to.deep.equal(['charge:captured']);
    expect(await inventoryViolations(system)).to.deep.equal([]);
    // "No error" includes what the processes only logged (a relay round, a consumer, the saga worker).
    for (const file of ['inventory.log', 'order.log']) expect(errorLines(join(system.logDir, file)), file).to.deep.equal([]);

    // The pooler carried the traffic: every checkout is at least one transaction
    // in each service, and never more server connections than its pool size.
    const after = await xactCounts();
    console.log(
      `      transactions through PgBouncer: inventory ${after.inventory - before.inventory}, order ${after.order - before.order}`,
    );
    expect(after.inventory - before.inventory).to.be.at.least(ids.length);
    expect(after.order - before.order).to.be.at.least(ids.length);
    const pools = await bouncer.admin<PoolRow>('SHOW POOLS');
    for (const url of [system.inventoryDb.url, system.orderDb.url]) {
      const pool = pools.find((p) => p.database === databaseName(url));
      expect(pool, `a pool for ${databaseName(url)}`).to.not.equal(undefined);
      const servers = ['sv_active', 'sv_idle', 'sv_used', 'sv_tested', 'sv_login'].reduce(
        (n, k) => n + Number(pool![k as keyof PoolRow]),
        0,
      );
      expect(servers).to.be.within(1, SERVER_CONNECTIONS);
    }
  });
});
