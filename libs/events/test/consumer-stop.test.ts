import { expect } from 'chai';
import type { NatsConnection } from 'nats';
import { createTestDatabase, type TestDatabase } from '#test/support/test-database.js';
import { silentLogger } from '#libs/logging/logger.js';
import { createInboxConsumer } from '../consumer.js';
import { ensureStream } from '../streams.js';
import { startThrowawayNatsServer, type ThrowawayNatsServer } from '#test/support/nats-server.js';
import { connectNats, eventsMigration, uniqueToken } from './helpers.js';

describe('inbox consumer stop()', function () {
  this.timeout(30_000);
  let server: ThrowawayNatsServer;
  let testDb: TestDatabase;
  let nc: NatsConnection;

  before(async () => {
    [server, testDb] = await Promise.all([startThrowawayNatsServer(), createTestDatabase('events', [eventsMigration])]);
    nc = await connectNats(server.url);
  });
  after(async () => {
    await nc?.close();
    await testDb?.drop();
    await server?.destroy();
  });

  // Found by mutation testing: stop() while the pull subscription was still being set up
  // awaited the close of an iterator nobody read, and never returned.
  it('returns when called right after start(), before the pull subscription exists', async () => {
    for (let round = 0; round < 5; round += 1) {
      const token = uniqueToken();
      await ensureStream(nc, { name: `STOP_${token}`, subjects: [`stop${token}.>`], duplicateWindowMs: 100 });
      const consumer = createInboxConsumer({
        db: testDb.db,
        nats: nc,
        logger: silentLogger(),
        stream: `STOP_${token}`,
        durableName: `stop-${token}`,
        filterSubjects: [],
        handle: async () => undefined,
      });
      await consumer.start();
      const stopped = await Promise.race([
        consumer.stop().then(() => 'stopped'),
        new Promise((resolve) => setTimeout(() => resolve('still running after 5 s'), 5_000)),
      ]);
      expect(stopped, `round ${round}`).to.equal('stopped');
    }
  });
});
