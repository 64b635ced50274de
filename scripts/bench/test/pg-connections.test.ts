import { expect } from 'chai';
import { databaseName } from '#libs/db/admin.js';
import { createDatabase } from '#libs/db/knex.js';
import { createTestDatabase, type TestDatabase } from '#test/support/test-database.js';
import { samplePgConnections } from '../pg-connections.js';

/** The scale case's connection figures, from the real pg_stat_activity. */
describe('scripts/bench/pg-connections: the services’ PostgreSQL backends under load', function () {
  this.timeout(30_000);
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase('bench_pgconn');
  });
  after(async () => {
    await database?.drop();
  });

  it('counts the backends a service holds open and busy, not the bench’s own on the same database', async () => {
    const service = createDatabase({ url: database.url, poolMax: 3, applicationName: 'inventory' });
    try {
      const sampler = samplePgConnections([databaseName(database.url)]);
      // Two service backends and one of the bench's own (the TestDatabase pool), all busy for 1.6 s: ≥ 3 samples.
      await Promise.all([
        service.raw('select pg_sleep(1.6)'),
        service.raw('select pg_sleep(1.6)'),
        database.db.raw('select pg_sleep(1.6)'),
      ]);
      const figures = await sampler.stop();
      expect(figures.openMax).to.equal(2);
      expect(figures.busyMean).to.be.within(1, 2);
      expect(await sampler.stop(), 'stop() again gives the same figures').to.deep.equal(figures);
    } finally {
      await service.destroy();
    }
  });
});
