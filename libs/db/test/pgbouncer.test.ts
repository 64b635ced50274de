import { expect } from 'chai';
import type { Knex } from 'knex';
import { dropDatabase, ensureDatabase, withDatabase } from '../admin.js';
import { createDatabase } from '../knex.js';
import { prepared } from '../prepared.js';
import { startThrowawayPgBouncer, type ThrowawayPgBouncer } from '#test/support/pgbouncer.js';
import { migrateService } from '#test/support/scripts.js';
import { TEST_DATABASE_SERVER } from '#test/support/test-database.js';

/**
 * libs/db behind PgBouncer 1.18 in transaction pooling mode, with ONE server
 * connection per database: every client connection shares it, so anything one
 * of them leaves on the session is seen by the next (the failure modes a large
 * pool only shows now and then show here every time).
 */
describe('libs/db behind PgBouncer in transaction mode (one server connection)', function () {
  this.timeout(60_000);
  const directUrl = withDatabase(TEST_DATABASE_SERVER, `pgbouncer_db_test_${Date.now().toString(36)}`);
  let bouncer: ThrowawayPgBouncer;
  const pools: Knex[] = [];
  const pool = (preparedStatements: boolean) => {
    const db = createDatabase({ url: bouncer.route(directUrl), poolMax: 2, preparedStatements });
    pools.push(db);
    return db;
  };

  before(async () => {
    await ensureDatabase(directUrl);
    bouncer = await startThrowawayPgBouncer({ defaultPoolSize: 1 });
  });
  after(async () => {
    await Promise.all(pools.map((db) => db.destroy()));
    await bouncer?.destroy();
    await dropDatabase(directUrl);
  });

  /** Two transactions on two client connections, each running the same marked statement; each one's error code, or 'ok'. */
  async function twoClientsRunOneStatement(db: Knex): Promise<string[]> {
    const once = () =>
      db
        .transaction((trx) => prepared(trx.raw('select ?::int * 2 as doubled', [21])))
        .then(
          () => 'ok',
          (error: { code?: string }) => error.code ?? String(error),
        );
    return Promise.all([once(), once()]);
  }

  it('breaks named prepared statements (DATABASE_PREPARED_STATEMENTS=true): the second client finds the name taken', async () => {
    const outcomes = await twoClientsRunOneStatement(pool(true));
    // 42P05 duplicate_prepared_statement: the server connection already holds
    // the name that the other client connection prepared on it.
    expect(outcomes.sort()).to.deep.equal(['42P05', 'ok']);
  });

  it('works with them off (DATABASE_PREPARED_STATEMENTS=false): the same statements run unnamed', async () => {
    const db = pool(false);
    expect(await twoClientsRunOneStatement(db)).to.deep.equal(['ok', 'ok']);
    // Repeated, on whichever client connection: still no name meets a second client.
    for (let i = 0; i < 3; i++) expect(await twoClientsRunOneStatement(db)).to.deep.equal(['ok', 'ok']);
  });

  it('runs both services’ migrations through it, and their lock_timeout ends with the migration', async () => {
    const inventoryUrl = withDatabase(TEST_DATABASE_SERVER, `pgbouncer_inv_test_${Date.now().toString(36)}`);
    const orderUrl = withDatabase(TEST_DATABASE_SERVER, `pgbouncer_ord_test_${Date.now().toString(36)}`);
    try {
      // The migrate script (knex's lock table, transactional and CONCURRENTLY migrations) pointed at the pooler.
      await migrateService('inventory', bouncer.route(inventoryUrl));
      await migrateService('order', bouncer.route(orderUrl));
      for (const url of [inventoryUrl, orderUrl]) {
        const db = createDatabase({ url: bouncer.route(url), poolMax: 1 });
        pools.push(db);
        // The one server connection the migrations ran on now serves the application.
        const { rows } = await db.raw<{ rows: { lock_timeout: string }[] }>('show lock_timeout');
        expect(rows[0]!.lock_timeout, `lock_timeout left behind on ${url}`).to.equal('0');
        const applied = await db('knex_migrations').count<{ count: string }[]>('* as count');
        expect(Number(applied[0]!.count)).to.be.greaterThan(0);
      }
    } finally {
      await Promise.all([dropDatabase(inventoryUrl), dropDatabase(orderUrl)]);
    }
  });
});
