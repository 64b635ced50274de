import { expect } from 'chai';
import type { NatsConnection } from 'nats';
import { createTestDatabase, type TestDatabase } from '#test/support/test-database.js';
import { uuidv7 } from '#libs/ids/uuid.js';
import { silentLogger } from '#libs/logging/logger.js';
import { appendToOutbox, type OutboxEvent } from '../outbox.js';
import { createOutboxRelay, type OutboxRelay, type OutboxRelayOptions } from '../relay.js';
import { ensureStream } from '../streams.js';
import { startThrowawayNatsServer, type ThrowawayNatsServer } from '#test/support/nats-server.js';
import { connectNats, duplicatesIn, eventsMigration, messageIds, readStream, sleep, uniqueToken, waitFor } from './helpers.js';
import { CLAIM_SQL, heldPublishes, statementTimes } from './relay-probes.js';
import { recordStatements } from '#test/support/record-statements.js';
import { createDatabase } from '#libs/db/knex.js';

describe('outbox relay', function () {
  this.timeout(30_000);

  let server: ThrowawayNatsServer;
  let testDb: TestDatabase;
  /** The test's own connection, for reading streams back. */
  let reader: NatsConnection;
  const connections: NatsConnection[] = [];
  const relays: OutboxRelay[] = [];

  before(async () => {
    [server, testDb] = await Promise.all([startThrowawayNatsServer(), createTestDatabase('events', [eventsMigration])]);
    reader = await connectNats(server.url);
  });

  after(async () => {
    await reader?.close();
    await testDb?.drop();
    await server?.destroy();
  });

  beforeEach(async () => {
    await testDb.db('outbox').del();
  });

  afterEach(async () => {
    await Promise.all(relays.splice(0).map((relay) => relay.stop()));
    await Promise.all(connections.splice(0).map((nc) => nc.close()));
  });

  /** A stream and subject prefix of the test's own. */
  async function newStream(duplicateWindowMs?: number): Promise<{ name: string; prefix: string }> {
    const token = uniqueToken();
    const name = `RELAY_${token}`;
    const prefix = `relay${token}`;
    await ensureStream(reader, { name, subjects: [`${prefix}.>`], duplicateWindowMs });
    return { name, prefix };
  }

  /** Each relay gets its own connection, like a replica would. */
  async function newRelay(
    options: Partial<OutboxRelayOptions> & { wrapNats?: (nc: NatsConnection) => NatsConnection } = {},
  ): Promise<OutboxRelay> {
    const { wrapNats = (nc: NatsConnection) => nc, ...relayOptions } = options;
    const nats = await connectNats(server.url);
    connections.push(nats);
    const relay = createOutboxRelay({ db: testDb.db, nats: wrapNats(nats), logger: silentLogger(), pollIntervalMs: 50, ...relayOptions });
    relays.push(relay);
    return relay;
  }

  function makeEvents(prefix: string, count: number): OutboxEvent[] {
    return Array.from({ length: count }, (_, i) => ({
      id: uuidv7(),
      subject: `${prefix}.thing.happened`,
      type: 'larder.test.v1.ThingHappened',
      payload: new TextEncoder().encode(`payload ${i}`),
      correlationId: `corr-${i}`,
    }));
  }

  async function appendCommitted(events: OutboxEvent[]): Promise<void> {
    await testDb.db.transaction((trx) => appendToOutbox(trx, events));
  }

  async function unpublishedCount(): Promise<number> {
    const row = (await testDb.db('outbox').whereNull('published_at').count({ n: '*' }).first()) as { n: number };
    return Number(row.n);
  }

  /** Two relays on the one outbox, started, as two replicas run them. */
  async function startTwoRelays(batchSize: number): Promise<[OutboxRelay, OutboxRelay]> {
    const [a, b] = await Promise.all([newRelay({ batchSize }), newRelay({ batchSize })]);
    a.start();
    b.start();
    return [a, b];
  }

  /**
   * Two relays shared the work and no row went out twice: each event is in the
   * stream once (with a short duplicate window a second publish shows there), no
   * PubAck was a duplicate (a second publish inside the window), and the rows the
   * relays counted add up.
   */
  async function expectEachPublishedOnceBySharing(streamName: string, events: readonly OutboxEvent[], a: OutboxRelay, b: OutboxRelay) {
    const ids = messageIds(await readStream(reader, streamName));
    expect(duplicatesIn(ids)).to.deep.equal([]);
    expect(ids).to.have.length(events.length);
    expect(new Set(ids)).to.deep.equal(new Set(events.map((e) => e.id)));
    const [statsA, statsB] = [a.stats(), b.stats()];
    expect(statsA.duplicates + statsB.duplicates).to.equal(0);
    expect(statsA.published + statsB.published).to.equal(events.length);
    expect(statsA.published, 'relay A did some of the work').to.be.greaterThan(0);
    expect(statsB.published, 'relay B did some of the work').to.be.greaterThan(0);
  }

  it('publishes rows from committed transactions exactly once each, with headers, and marks them published', async () => {
    const stream = await newStream();
    const events = [...makeEvents(stream.prefix, 15), ...makeEvents(stream.prefix, 10)];
    await appendCommitted(events.slice(0, 15));
    await appendCommitted(events.slice(15));

    const relay = await newRelay({ batchSize: 10 });
    relay.start();
    await waitFor('outbox drained', async () => (await unpublishedCount()) === 0);

    const stored = await readStream(reader, stream.name);
    const ids = messageIds(stored);
    expect(duplicatesIn(ids)).to.deep.equal([]);
    expect([...ids].sort()).to.deep.equal(events.map((e) => e.id).sort());

    const first = stored.find((m) => m.header.get('Nats-Msg-Id') === events[0]!.id)!;
    expect(first.subject).to.equal(events[0]!.subject);
    expect(first.header.get('Larder-Event-Type')).to.equal('larder.test.v1.ThingHappened');
    expect(first.header.get('X-Correlation-Id')).to.equal('corr-0');
    expect(new TextDecoder().decode(first.data)).to.equal('payload 0');

    const rows = await testDb.db('outbox').select('published_at', 'publish_attempts');
    expect(rows).to.have.length(25);
    for (const row of rows) {
      expect(row.published_at).to.be.instanceOf(Date);
      expect(row.publish_attempts).to.equal(0);
    }
    expect(relay.stats()).to.deep.equal({ published: 25, duplicates: 0, publishFailures: 0 });
  });

  it('never publishes rows from a rolled-back transaction', async () => {
    const stream = await newStream();
    const rolledBack = makeEvents(stream.prefix, 5);
    const [marker] = makeEvents(stream.prefix, 1);

    const rollback = testDb.db.transaction(async (trx) => {
      await appendToOutbox(trx, rolledBack);
      throw new Error('change failed');
    });
    await rollback.then(
      () => expect.fail('transaction should have rolled back'),
      (err: Error) => expect(err.message).to.equal('change failed'),
    );
    await appendCommitted([marker!]);

    const relay = await newRelay();
    expect(await relay.relayOnce()).to.equal(1);
    expect(await relay.relayOnce()).to.equal(0);

    expect(messageIds(await readStream(reader, stream.name))).to.deep.equal([marker!.id]);
  });

  it('runs a round at once on wake() instead of waiting for the poll', async () => {
    const stream = await newStream();
    const relay = await newRelay({ pollIntervalMs: 60_000 });
    const claims = statementTimes(testDb.db, CLAIM_SQL);
    relay.start();
    // The first round (empty) has run, seen by its claim; the next poll is a minute away.
    await waitFor('the first round', () => claims.times.length === 1);
    claims.stop();

    const events = makeEvents(stream.prefix, 3);
    await appendCommitted(events);
    const started = Date.now();
    relay.wake();
    await waitFor('woken relay published', async () => (await unpublishedCount()) === 0, { timeoutMs: 2_000 });
    expect(Date.now() - started).to.be.lessThan(2_000);
  });

  it('reports the backlog: unpublished count and age of the oldest', async () => {
    const stream = await newStream();
    const relay = await newRelay();
    expect(await relay.backlog()).to.deep.equal({ count: 0, oldestAgeMs: 0 });

    await appendCommitted(makeEvents(stream.prefix, 3));
    await sleep(60);
    const backlog = await relay.backlog();
    expect(backlog.count).to.equal(3);
    expect(backlog.oldestAgeMs).to.be.within(50, 5_000);

    expect(await relay.relayOnce()).to.equal(3);
    expect(await relay.backlog()).to.deep.equal({ count: 0, oldestAgeMs: 0 });
  });

  it('keeps a row it cannot publish, records the error, and purges published rows past retention', async () => {
    const stream = await newStream();
    const published = makeEvents(stream.prefix, 4);
    // No stream captures this subject: JetStream answers 503 and the row must stay unpublished.
    const [orphan] = makeEvents(`nostream${uniqueToken()}`, 1);
    await appendCommitted([...published, orphan!]);

    const relay = await newRelay({ retentionMs: 0, cleanupIntervalMs: 100, publishTimeoutMs: 1_000, maxBackoffMs: 200 });
    relay.start();
    await waitFor('published rows purged, orphan retried', async () => {
      const rows = await testDb.db('outbox').select('id', 'publish_attempts');
      return rows.length === 1 && rows[0].publish_attempts >= 2;
    });

    const [row] = await testDb.db('outbox').select('*');
    expect(row.id).to.equal(orphan!.id);
    expect(row.published_at).to.equal(null);
    expect(row.last_error).to.match(/503|no JetStream stream/);
    expect(messageIds(await readStream(reader, stream.name)).sort()).to.deep.equal(published.map((e) => e.id).sort());
  });

  it('delivers every event exactly once when NATS goes down during writes and comes back', async function () {
    // Smallest duplicate window the server allows (100 ms), far shorter than the
    // outage: a row the relay published twice shows up twice in the stream
    // instead of being dropped by JetStream's dedupe (the default 2 h would hide it).
    const stream = await newStream(100);
    // A PubAck slower than the timeout is a legitimate re-publish (at least once);
    // the long timeout keeps the broker's restart from producing one.
    const relay = await newRelay({ batchSize: 50, publishTimeoutMs: 2_000, maxBackoffMs: 500 });
    relay.start();

    const all: OutboxEvent[] = [];
    // 200 events in 10 transactions of 20, the broker stopped after the 2nd and
    // restarted after the 8th: most are written while it is down.
    for (let batch = 0; batch < 10; batch++) {
      const events = makeEvents(stream.prefix, 20);
      all.push(...events);
      await appendCommitted(events);
      relay.wake();
      if (batch === 1) {
        // Stopped between rounds (nothing claimed, nothing in flight), so no PubAck
        // is lost to the shutdown itself: every row published before is marked.
        await waitFor('first 40 published before the outage', async () => (await unpublishedCount()) === 0);
        await server.stop();
      }
      if (batch === 7) {
        await waitFor('the relay failed to publish during the outage', () => relay.stats().publishFailures > 0);
        await server.start();
      }
      await sleep(150);
    }

    await waitFor('all 200 published after the restart', async () => (await unpublishedCount()) === 0, {
      timeoutMs: 20_000,
    });

    const ids = messageIds(await readStream(reader, stream.name));
    expect(duplicatesIn(ids)).to.deep.equal([]);
    expect(ids).to.have.length(200);
    expect(new Set(ids)).to.deep.equal(new Set(all.map((e) => e.id)));
    // Re-publishes within the 100 ms window are dropped by JetStream but flagged in the PubAck.
    expect(relay.stats().duplicates).to.equal(0);
    expect(relay.stats().published).to.equal(200);

    // The outage was seen (attempts failed) but the loop backed off instead of spinning.
    const { max } = (await testDb.db('outbox').max({ max: 'publish_attempts' }).first()) as { max: number };
    expect(max).to.be.within(1, 10);
  });

  it('two relays on the same outbox publish each event exactly once', async () => {
    // Smallest duplicate window the server allows (100 ms): a row published by both
    // relays would show up twice in the stream instead of being hidden by dedupe.
    const stream = await newStream(100);
    const before = makeEvents(stream.prefix, 150);
    await appendCommitted(before);

    const [a, b] = await startTwoRelays(20);
    const during: OutboxEvent[] = [];
    for (let i = 0; i < 10; i++) {
      const events = makeEvents(stream.prefix, 15);
      during.push(...events);
      await appendCommitted(events);
      (i % 2 === 0 ? a : b).wake();
    }
    await waitFor('outbox drained by both relays', async () => (await unpublishedCount()) === 0);

    await expectEachPublishedOnceBySharing(stream.name, [...before, ...during], a, b);
  });

  it('stop() lets the round in flight finish, marks it, and runs no further round', async () => {
    const stream = await newStream();
    const first = makeEvents(stream.prefix, 30);
    await appendCommitted(first);
    const gate = heldPublishes();
    const relay = await newRelay({ batchSize: 30, wrapNats: gate.wrap });
    relay.start();
    await waitFor('the round published all 30, PubAcks held back', () => gate.waiting() === 30);

    let stopped = false;
    const stopping = relay.stop().then(() => {
      stopped = true;
    });
    await sleep(100); // time for a stop() that did not wait for the round to resolve
    expect(stopped, 'stop() resolved while its round was still publishing').to.equal(false);
    gate.release();
    await stopping;

    expect(await unpublishedCount()).to.equal(0);
    expect(relay.stats()).to.deep.equal({ published: 30, duplicates: 0, publishFailures: 0 });
    // Stopped means stopped: a later row waits for the next relay.
    await appendCommitted(makeEvents(stream.prefix, 1));
    relay.wake();
    await sleep(200);
    expect(await unpublishedCount()).to.equal(1);
    expect(messageIds(await readStream(reader, stream.name)).sort()).to.deep.equal(first.map((e) => e.id).sort());
  });

  describe('batches', () => {
    it('publishes a whole batch concurrently and marks it with one statement', async () => {
      const stream = await newStream(100);
      const events = makeEvents(stream.prefix, 500);
      await appendCommitted(events);
      const gate = heldPublishes();
      const relay = await newRelay({ batchSize: 500, wrapNats: gate.wrap });

      const statements = recordStatements(testDb.db);
      const round = relay.relayOnce();
      // Every publish of the batch is in flight before any PubAck is seen.
      await waitFor('all 500 publishes in flight at once', () => gate.waiting() === 500);
      gate.release();
      expect(await round).to.equal(500);
      statements.stop();

      const touchingOutbox = statements.sql.filter((sql) => /\boutbox\b/.test(sql));
      expect(
        touchingOutbox.filter((sql) => /^select/i.test(sql)),
        'one claim',
      ).to.have.length(1);
      expect(
        touchingOutbox.filter((sql) => /\bupdate outbox\b/i.test(sql)),
        'one mark for the whole batch',
      ).to.have.length(1);
      expect(touchingOutbox).to.have.length(2);

      expect(await unpublishedCount()).to.equal(0);
      const ids = messageIds(await readStream(reader, stream.name));
      expect(duplicatesIn(ids)).to.deep.equal([]);
      expect([...ids].sort()).to.deep.equal(events.map((e) => e.id).sort());
    });

    it('marks the rest of a batch published when one publish fails, and keeps that one for a retry', async () => {
      const stream = await newStream(100);
      const good = makeEvents(stream.prefix, 9);
      // No stream captures this subject: JetStream answers 503 for this one message.
      const [orphan] = makeEvents(`nostream${uniqueToken()}`, 1);
      await appendCommitted([...good.slice(0, 4), orphan!, ...good.slice(4)]);
      const relay = await newRelay({ batchSize: 10, publishTimeoutMs: 2_000 });

      const statements = recordStatements(testDb.db);
      expect(await relay.relayOnce()).to.equal(9);
      statements.stop();
      expect(statements.sql.filter((sql) => /\bupdate outbox\b/i.test(sql))).to.have.length(1);

      const rows = await testDb.db('outbox').select('id', 'published_at', 'publish_attempts', 'last_error');
      const failed = rows.filter((row) => row.id === orphan!.id);
      expect(failed).to.have.length(1);
      expect(failed[0].published_at).to.equal(null);
      expect(failed[0].publish_attempts).to.equal(1);
      expect(failed[0].last_error).to.match(/503|no JetStream stream/);
      for (const row of rows.filter((r) => r.id !== orphan!.id)) {
        expect(row.published_at, `row ${row.id} marked published`).to.be.instanceOf(Date);
        expect(row.publish_attempts).to.equal(0);
        expect(row.last_error).to.equal(null);
      }
      expect(relay.stats()).to.deep.equal({ published: 9, duplicates: 0, publishFailures: 1 });
      expect(messageIds(await readStream(reader, stream.name)).sort()).to.deep.equal(good.map((e) => e.id).sort());

      // The next round retries only the failed row: the published ones are not sent again.
      expect(await relay.relayOnce()).to.equal(0);
      expect((await testDb.db('outbox').where({ id: orphan!.id }).first()).publish_attempts).to.equal(2);
      expect(messageIds(await readStream(reader, stream.name))).to.have.length(9);
      expect(relay.stats().duplicates).to.equal(0);
    });

    it('two relays draining one backlog in large batches never publish a row twice', async () => {
      // 100 ms duplicate window: a row both relays published shows up twice in the
      // stream, or (within the window) as a duplicate PubAck.
      const stream = await newStream(100);
      const events = makeEvents(stream.prefix, 2_000);
      await appendCommitted(events);
      const [a, b] = await startTwoRelays(200);
      await waitFor('backlog drained by both relays', async () => (await unpublishedCount()) === 0, { timeoutMs: 20_000 });

      await expectEachPublishedOnceBySharing(stream.name, events, a, b);
    });

    it('holds at most one database connection while it drains a backlog', async () => {
      const stream = await newStream();
      await appendCommitted(makeEvents(stream.prefix, 3_000));
      const applicationName = `relay_conn_${uniqueToken()}`;
      const relayDb = createDatabase({ url: testDb.url, poolMax: 10, applicationName });
      try {
        const relay = await newRelay({ db: relayDb, batchSize: 100 });
        const seen: number[] = [];
        relay.start();
        for (let i = 0; i < 2_000 && (await unpublishedCount()) > 0; i++) {
          const { rows } = await testDb.db.raw<{ rows: { n: number }[] }>(
            'select count(*)::int as n from pg_stat_activity where application_name = ?',
            [applicationName],
          );
          seen.push(rows[0]!.n);
        }
        await relay.stop();
        expect(await unpublishedCount(), 'backlog drained while sampling').to.equal(0);
        expect(Math.max(...seen), 'connections the relay held at once').to.equal(1);
      } finally {
        await relayDb.destroy();
      }
    });
  });
});
