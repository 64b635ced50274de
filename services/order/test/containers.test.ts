import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from '#test/support/test-database.js';
import { describeServiceContainer } from '#test/support/container-checks.js';
import { runNode } from '#test/support/container-files.js';
import { freePort } from '#test/support/free-port.js';
import { DEVELOPMENT_API_KEYS, readOrderConfig } from '../config.js';
import { orderMigrations } from '../migrations/index.js';

/**
 * The order side of the container files, checked without a Docker engine:
 * docker-compose.yml and the root Dockerfile built with SERVICE=order pass the
 * checks every service's do (test/support/container-checks.ts: among them, the
 * order service migrating and serving from the image's dist/ on plain node);
 * scripts/migrate.ts migrates one service on request.
 * services/inventory/test/containers.test.ts checks the inventory's side and
 * test/system/compose-wiring.test.ts how compose wires the two together.
 */

describe('container files (order)', () => {
  describeServiceContainer({
    name: 'order',
    readConfig: readOrderConfig,
    developmentApiKeys: DEVELOPMENT_API_KEYS,
    migrations: orderMigrations,
    tables: ['carts', 'cart_items', 'orders', 'order_items', 'order_events', 'outbox', 'inbox'],
    grpcServices: ['larder.order.v1.OrderService', 'larder.order.v1.CartService'],
    alsoDependsOn: { inventory: 'service_healthy' },
    // Compose's inventory:50051 does not resolve here: a local port nothing listens on (the order service reaches SERVING without the inventory).
    localEnv: async () => ({ INVENTORY_ADDR: `127.0.0.1:${await freePort()}` }),
  });
});

describe('scripts/migrate.ts [inventory|order ...]', function () {
  this.timeout(60_000);

  const UNREACHABLE = 'postgres://postgres@127.0.0.1:1/larder_must_not_be_touched';
  let database: TestDatabase | undefined;
  before(async () => {
    database = await createTestDatabase('migrate_order_cli');
  });
  after(async () => {
    await database?.drop();
  });

  const migrate = (args: string[], orderUrl: string) =>
    runNode(['--import', 'tsx', 'scripts/migrate.ts', ...args], {
      env: { ...process.env, ORDER_DATABASE_URL: orderUrl, INVENTORY_DATABASE_URL: UNREACHABLE },
      timeoutMs: 50_000,
    });

  it('`order` creates the order tables in ORDER_DATABASE_URL and leaves the inventory alone', async () => {
    const run = await migrate(['order'], database!.url);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout.trim()).to.equal(`order: applied ${orderMigrations.map((m) => m.name).join(', ')}`);
    const tables = await database!.db('information_schema.tables').where({ table_schema: 'public' }).pluck('table_name');
    expect(tables).to.include.members([
      'carts',
      'cart_items',
      'orders',
      'order_items',
      'order_events',
      'simulated_charges',
      'outbox',
      'inbox',
    ]);
    expect(tables, 'no inventory table').not.to.include('products');
    expect(await database!.db('knex_migrations').pluck('name')).to.deep.equal(orderMigrations.map((m) => m.name));
  });

  it('`order` again finds the schema up to date', async () => {
    const run = await migrate(['order'], database!.url);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout.trim()).to.equal('order: schema up to date');
  });

  it('an unknown service name exits 2, listing the valid ones, before migrating anything', async () => {
    for (const args of [['nonsense'], ['order', 'nonsense']]) {
      const run = await migrate(args, UNREACHABLE);
      expect(run.code, args.join(' ')).to.equal(2);
      expect(run.stderr).to.include('"nonsense"').and.include('inventory, order');
      expect(run.stdout).to.equal('');
    }
  });
});
