import { expect } from 'chai';
import { headers, type NatsConnection } from 'nats';
import { createTestDatabase, type TestDatabase } from '#test/support/test-database.js';
import { uuidv7 } from '#libs/ids/uuid.js';
import { silentLogger } from '#libs/logging/logger.js';
import { ensureStream } from '../streams.js';
import { createSubjectConsumers, subjectDurable } from '../subject-consumers.js';
import { startThrowawayNatsServer, type ThrowawayNatsServer } from '#test/support/nats-server.js';
import { connectNats, eventsMigration, uniqueToken, waitFor } from './helpers.js';

describe('inbox consumers, one per subject', function () {
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

  it('lets the server filter: each durable is delivered only its subject, and they report as one consumer', async () => {
    const token = uniqueToken();
    const stream = `SUBJ_${token}`;
    const prefix = `subj${token}`;
    await ensureStream(nc, { name: stream, subjects: [`${prefix}.>`], duplicateWindowMs: 100 });
    const wanted = [`${prefix}.orders.confirmed`, `${prefix}.orders.cancelled`];
    const seen: string[] = [];
    const consumer = createSubjectConsumers({
      db: testDb.db,
      nats: nc,
      logger: silentLogger(),
      stream,
      durableName: `test-${token}`,
      filterSubjects: wanted,
      handle: async (msg) => {
        seen.push(msg.subject);
      },
    });
    await consumer.start();
    try {
      for (const event of ['confirmed', 'placed', 'cancelled', 'shipped', 'placed', 'confirmed']) {
        const h = headers();
        h.set('Larder-Event-Type', 'larder.test.v1.Thing');
        await nc.jetstream().publish(`${prefix}.orders.${event}`, new TextEncoder().encode(event), { msgID: uuidv7(), headers: h });
      }
      await waitFor('the three wanted events handled', async () => consumer.stats().processed === 3);
      expect(seen.sort()).to.deep.equal([wanted[1], wanted[0], wanted[0]]);
      expect(consumer.name).to.equal(`test-${token}`);

      const jsm = await nc.jetstreamManager();
      const delivered: Record<string, number> = {};
      for (const subject of wanted) {
        const info = await jsm.consumers.info(stream, subjectDurable(`test-${token}`, subject));
        expect(info.config.filter_subject, 'filtered by the server').to.equal(subject);
        delivered[subject] = info.delivered.consumer_seq;
      }
      // A client-filtered consumer would have been delivered all six messages.
      expect(delivered).to.deep.equal({ [wanted[0]!]: 2, [wanted[1]!]: 1 });
      // One inbox name for all of them, so they dedupe together.
      expect(await testDb.db('inbox').distinct('consumer').pluck('consumer')).to.deep.equal([`test-${token}`]);
    } finally {
      await consumer.stop();
    }
  });
});
