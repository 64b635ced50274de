import { plainInventoryDeps } from '../plain-deps.js';
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from '#test/support/test-database.js';
import { capturePlans, type PlanCapture } from '#test/support/plan-capture.js';
import type { InventoryDeps } from '../domain/deps.js';
import { reserveStock } from '../domain/reservations/reserve-stock.js';
import { settleReservation } from '../domain/reservations/settle-reservation.js';
import { inventoryMigrations } from '../migrations/index.js';

const ROWS = 20_000;

/**
 * The batched statements take their members as jsonb, which the planner assumes
 * is 100 rows whatever it holds. Written as joins they were planned as hash
 * joins over sequential scans of the whole table, a cost that grows with it;
 * written as index conditions they read only the rows they touch. Checked on
 * the plans PostgreSQL really chose (custom and generic), at 20,000 rows a table.
 */
describe('statement plans of reservations and settlement at 20,000 rows', function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let capture: PlanCapture;
  let productIds: string[];

  before(async () => {
    database = await createTestDatabase('inventory_plans', inventoryMigrations);
    await database.db.raw(
      `insert into products (id, sku, name, price_minor, currency_code, created_at, updated_at)
       select gen_random_uuid(), 'PLAN-' || g, 'Plan ' || g, 100, 'EUR', now(), now() from generate_series(1, ?) g`,
      [ROWS],
    );
    await database.db.raw(`insert into stock_levels (product_id, available, updated_at) select id, 1000, now() from products`);
    await database.db.raw(
      `insert into reservations (order_id, status, request_hash, expires_at, created_at, updated_at)
       select gen_random_uuid(), 'COMMITTED', 'h', now(), now(), now() from generate_series(1, ?)`,
      [ROWS],
    );
    await database.db.raw(
      `insert into reservation_items (order_id, product_id, quantity, unit_price_minor, currency_code)
       select r.order_id, p.id, 1, 100, 'EUR'
       from (select order_id, row_number() over () as n from reservations) r
       join (select id, row_number() over () as n from products) p on p.n = r.n`,
    );
    await database.db.raw(
      `insert into outbox (id, subject, event_type, payload, published_at)
       select gen_random_uuid(), 'inventory.x', 'x', '\\x00'::bytea, now() from generate_series(1, ?)`,
      [ROWS],
    );
    await database.db.raw('analyze');
    productIds = (await database.db('products').orderBy('sku').limit(3).pluck('id')) as string[];
    capture = await capturePlans(database.url);
  });
  after(async () => {
    await capture?.destroy();
    await database?.drop();
  });

  it('reserve_stock_batch and the settlement statement read reservations, items and stock by index only', async () => {
    const deps: InventoryDeps = { ...plainInventoryDeps(capture.db), defaultReservationTtlMs: 60_000 };
    const [a, b, c] = productIds as [string, string, string];
    // More than five runs of each: the prepared statements move to their generic plans.
    for (let i = 0; i < 8; i++) {
      const orderId = randomUUID();
      await reserveStock(
        deps,
        {},
        {
          orderId,
          items: [
            { productId: a, quantity: 1 },
            { productId: i % 2 ? b : c, quantity: 2 },
          ],
        },
      );
      await settleReservation(deps, {}, orderId, i % 2 ? 'COMMITTED' : 'RELEASED');
    }
    const planned = (text: RegExp) => capture.plans.filter((plan) => text.test(plan)).length;
    expect(planned(/Query Text: select reserve_stock_batch/), 'the reservation function ran').to.be.at.least(8);
    expect(planned(/for update of s/), 'its stock look-up was planned').to.be.at.least(8);
    expect(planned(/update reservations r set status/), 'the settlement statement ran').to.be.at.least(8);
    // locations is a table of a chain's stores (dozens, not thousands): read whole, it is one page.
    expect(capture.seqScannedTables().filter((t) => t !== 'locations')).to.deep.equal([]);
  });
});
