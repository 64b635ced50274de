import { expect } from 'chai';
import type { NatsConnection } from 'nats';
import { pino } from 'pino';
import { capturingLogger } from '../../testing/capturing-logger.js';
import { createTestDatabase, type TestDatabase } from '../../db/test-database.js';
import { uuidv7 } from '../../ids/uuid.js';
import { testNatsUrl } from '../../testing/root-hooks.js';
import { appendToOutbox, type OutboxEvent } from '../outbox.js';
import { createOutboxRelay, type OutboxRelay, type OutboxRelayOptions } from '../relay.js';
import { ensureStream } from '../streams.js';
import { connectNats, eventsMigration, readStream, uniqueToken, waitFor } from './helpers.js';

/**
 * The outbox relay's defaults, what it records and logs for rows it cannot
 * publish, the duplicate count and the retention purge, against the run's NATS
 * and a real database. Found by mutation testing: relay.test.ts covers the
 * delivery guarantees, not these.
 */
describe('outbox relay: settings, failure records, logs and purge', function () {
  this.timeout(30_000);

  let testDb: TestDatabase;
  let nc: NatsConnection;
  const relays: OutboxRelay[] = [];

  before(async () => {
    [testDb, nc] = await Promise.all([createTestDatabase('relay_cfg', [eventsMigration]), connectNats(testNatsUrl())]);
  });
  beforeEach(async () => {
    await testDb.db('outbox').del();
  });
  afterEach(async () => {
    await Promise.all(relays.splice(0).map((r) => r.stop()));
  });
  after(async () => {
    await nc?.close();
    await testDb?.drop();
  });

  function newRelay(options: Partial<OutboxRelayOptions> = {}): OutboxRelay {
    const relay = createOutboxRelay({ db: testDb.db, nats: nc, logger: pino({ level: 'silent' }), ...options });
    relays.push(relay);
    return relay;
  }

  async function newStream(): Promise<{ name: string; prefix: string }> {
    const token = uniqueToken();
    const stream = { name: `RCFG_${token}`, prefix: `rcfg${token}` };
    await ensureStream(nc, { name: stream.name, subjects: [`${stream.prefix}.>`] });
    return stream;
  }

  async function append(subject: string, count: number, correlationId?: string): Promise<OutboxEvent[]> {
    const events = Array.from({ length: count }, (_, i) => ({
      id: uuidv7(),
      subject,
      type: 'larder.test.v1.Thing',
      payload: new TextEncoder().encode(`p${i}`),
      correlationId,
    }));
    await testDb.db.transaction((trx) => appendToOutbox(trx, events));
    return events;
  }

  it('claims 500 rows a round by default', async () => {
    const stream = await newStream();
    await append(`${stream.prefix}.x`, 501);
    const relay = newRelay();
    expect(await relay.relayOnce()).to.equal(500);
    expect(await relay.relayOnce()).to.equal(1);
  });

  it('sends the correlation id header only when the row has one', async () => {
    const stream = await newStream();
    const [withId] = await append(`${stream.prefix}.x`, 1, 'corr-7');
    const [without] = await append(`${stream.prefix}.x`, 1);
    expect(await newRelay().relayOnce()).to.equal(2);
    const stored = await readStream(nc, stream.name);
    const header = (id: string) => stored.find((m) => m.header?.get('Nats-Msg-Id') === id)?.header;
    expect(header(withId!.id)?.get('X-Correlation-Id')).to.equal('corr-7');
    expect(header(without!.id)?.has('X-Correlation-Id')).to.equal(false);
    expect(header(without!.id)?.get('Larder-Event-Type')).to.equal('larder.test.v1.Thing');
  });

  it('a row no stream accepts: not published, an attempt and a readable error recorded, a warning logged', async () => {
    const { logger, lines } = capturingLogger();
    const stream = await newStream();
    const [ok] = await append(`${stream.prefix}.x`, 1);
    const [orphan] = await append(`nostream${uniqueToken()}.x`, 1);
    const relay = newRelay({ logger });
    expect(await relay.relayOnce()).to.equal(1);
    const rows = await testDb.db('outbox').select('id', 'published_at', 'publish_attempts', 'last_error');
    const row = (id: string) => rows.find((r) => r.id === id)!;
    expect(row(ok!.id).published_at).to.be.instanceOf(Date);
    expect(row(ok!.id).publish_attempts).to.equal(0);
    expect(row(orphan!.id)).to.include({
      published_at: null,
      publish_attempts: 1,
      last_error: 'no JetStream stream accepts this subject (503 no responders)',
    });
    const warned = lines.filter((l) => l.msg === 'outbox rows not published; will retry');
    expect(warned.map((l) => [l.level, l.component, l.failed, l.published, l.errors])).to.deep.equal([
      [40, 'outbox-relay', 1, 1, ['no JetStream stream accepts this subject (503 no responders)']],
    ]);
    expect(relay.stats()).to.include({ published: 1, publishFailures: 1 });
  });

  it('a round where everything was published logs no warning', async () => {
    const { logger, lines } = capturingLogger();
    const stream = await newStream();
    await append(`${stream.prefix}.x`, 3);
    expect(await newRelay({ logger }).relayOnce()).to.equal(3);
    expect(lines.filter((l) => Number(l.level) >= 40)).to.deep.equal([]);
  });

  it('counts a re-publish JetStream dropped as a duplicate', async () => {
    const stream = await newStream();
    const [event] = await append(`${stream.prefix}.x`, 1);
    const relay = newRelay();
    expect(await relay.relayOnce()).to.equal(1);
    // The mark was lost (as after a crash): the row is published again, within the duplicate window.
    await testDb.db('outbox').update({ published_at: null }).where({ id: event!.id });
    expect(await relay.relayOnce()).to.equal(1);
    expect(relay.stats()).to.include({ published: 2, duplicates: 1 });
    expect((await readStream(nc, stream.name)).length).to.equal(1);
  });

  it('the running loop purges published rows past retention and says how many', async () => {
    const { logger, lines } = capturingLogger();
    const stream = await newStream();
    const events = await append(`${stream.prefix}.x`, 3);
    const relay = newRelay({ logger, retentionMs: 1_000, cleanupIntervalMs: 0, pollIntervalMs: 20 });
    expect(await relay.relayOnce()).to.equal(3);
    // Published two seconds ago, as far as retention is concerned.
    await testDb.db('outbox').update({ published_at: testDb.db.raw("now() - interval '2 seconds'") });
    relay.start();
    await waitFor(
      'the rows purged',
      async () =>
        (
          await testDb.db('outbox').whereIn(
            'id',
            events.map((e) => e.id),
          )
        ).length === 0,
    );
    await waitFor('the purge logged', () => lines.some((l) => l.msg === 'purged published outbox rows past retention'));
    const purged = lines.filter((l) => l.msg === 'purged published outbox rows past retention');
    expect(purged.map((l) => [l.level, l.deleted, l.component])).to.deep.equal([[30, 3, 'outbox-relay']]);
  });

  it('keeps published rows younger than the retention (default 7 days)', async () => {
    const stream = await newStream();
    await append(`${stream.prefix}.x`, 2);
    const relay = newRelay({ cleanupIntervalMs: 0, pollIntervalMs: 20 });
    expect(await relay.relayOnce()).to.equal(2);
    await testDb.db('outbox').update({ published_at: testDb.db.raw("now() - interval '6 days 23 hours'") });
    const [extra] = await append(`${stream.prefix}.x`, 1);
    relay.start();
    // A round after the purge ran: the extra row is published by it.
    await waitFor('the next row published', async () => (await testDb.db('outbox').where({ id: extra!.id }).first()).published_at !== null);
    await relay.stop();
    expect((await testDb.db('outbox').whereNotNull('published_at')).length).to.equal(3);
  });
});
