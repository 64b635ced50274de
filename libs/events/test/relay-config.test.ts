import { expect } from 'chai';
import { DiscardPolicy, StorageType } from 'nats';
import { capturingLogger } from '#test/support/capturing-logger.js';
import { uuidv7 } from '#libs/ids/uuid.js';
import { appendToOutbox } from '../outbox.js';
import { ensureStream } from '../streams.js';
import { connectNats, readStream, uniqueToken, waitFor } from './helpers.js';
import { testNatsUrl } from '#test/support/root-hooks.js';
import { relayFixture } from './relay-fixture.js';
import { createDatabase } from '#libs/db/knex.js';
import { recordStatements } from '#test/support/record-statements.js';
import { publishesRejectingWith, PURGE_SQL, statementTimes } from './relay-probes.js';

/**
 * The outbox relay's defaults, what it records and logs for rows it cannot
 * publish, the duplicate count and the retention purge, against the run's NATS
 * and a real database. Found by mutation testing: relay.test.ts covers the
 * delivery guarantees, not these.
 */
describe('outbox relay: settings, failure records, logs and purge', function () {
  this.timeout(30_000);

  const fx = relayFixture('relay_cfg');
  const { newRelay, append } = fx;

  async function newStream(): Promise<{ name: string; prefix: string }> {
    const token = uniqueToken();
    const stream = { name: `RCFG_${token}`, prefix: `rcfg${token}` };
    await ensureStream(fx.nc, { name: stream.name, subjects: [`${stream.prefix}.>`] });
    return stream;
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
    const stored = await readStream(fx.nc, stream.name);
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
    const rows = await fx.db('outbox').select('id', 'published_at', 'publish_attempts', 'last_error');
    const row = (id: string) => rows.find((r) => r.id === id)!;
    expect(row(ok!.id).published_at).to.be.instanceOf(Date);
    expect(row(ok!.id).publish_attempts).to.equal(0);
    expect(row(orphan!.id)).to.include({
      published_at: null,
      publish_attempts: 1,
      last_error: 'no JetStream stream accepts this subject, or its leader is being elected (503 no responders)',
    });
    const warned = lines.filter((l) => l.msg === 'outbox rows not published; will retry');
    expect(warned.map((l) => [l.level, l.component, l.failed, l.published, l.errors])).to.deep.equal([
      [40, 'outbox-relay', 1, 1, ['no JetStream stream accepts this subject, or its leader is being elected (503 no responders)']],
    ]);
    expect(relay.stats()).to.include({ published: 1, publishFailures: 1 });
  });

  it("records each refused row's own reason, and the warning names at most three of them", async () => {
    const { logger, lines } = capturingLogger();
    const token = uniqueToken();
    const jsm = await fx.nc.jetstreamManager();
    // Real refusals: no stream, no PubAck (a subscriber that never answers), a full stream, a message too big.
    const full = { name: `RFULL_${token}`, subjects: [`rfull${token}.>`], max_msgs: 1, discard: DiscardPolicy.New };
    const small = { name: `RSMALL_${token}`, subjects: [`rsmall${token}.>`], max_msg_size: 300 };
    await jsm.streams.add({ ...full, storage: StorageType.Memory });
    await jsm.streams.add({ ...small, storage: StorageType.Memory });
    await fx.nc.jetstream().publish(`rfull${token}.x`, new Uint8Array(1));
    const silent = fx.nc.subscribe(`rsilent${token}.>`);
    try {
      // One transaction each, so created_at (the claim order) is the order written here.
      const [orphan] = await append(`nostream${token}.x`, 1);
      const [unanswered] = await append(`rsilent${token}.x`, 1);
      const [overflow] = await append(`rfull${token}.x`, 1);
      const [big] = await fx.db.transaction(async (trx) => {
        const event = { id: uuidv7(), subject: `rsmall${token}.x`, type: 'larder.test.v1.Thing', payload: new Uint8Array(1_000) };
        await appendToOutbox(trx, [event]);
        return [event];
      });
      const relay = newRelay({ logger, publishTimeoutMs: 300 });
      const started = Date.now();
      expect(await relay.relayOnce()).to.equal(0);
      expect(Date.now() - started, 'the round waited publishTimeoutMs, not the 5 s default').to.be.below(3_000);

      const reasons = {
        [orphan!.id]: 'no JetStream stream accepts this subject, or its leader is being elected (503 no responders)',
        [unanswered!.id]: 'no PubAck before the publish timeout',
        [overflow!.id]: 'maximum messages exceeded',
        [big!.id]: 'message size exceeds maximum allowed',
      };
      const rows = await fx.db('outbox').select('id', 'published_at', 'last_error');
      expect(Object.fromEntries(rows.map((r) => [r.id, r.last_error]))).to.deep.equal(reasons);
      expect(rows.every((r) => r.published_at === null)).to.equal(true);
      const warned = lines.filter((l) => l.msg === 'outbox rows not published; will retry');
      expect(warned.map((l) => [l.failed, l.published, l.errors])).to.deep.equal([[4, 0, Object.values(reasons).slice(0, 3)]]);
    } finally {
      silent.unsubscribe();
      await Promise.all([jsm.streams.delete(full.name), jsm.streams.delete(small.name)]);
    }
  });

  it('records the error of a publish on a closed connection as nats.js names it', async () => {
    const stream = await newStream();
    const [event] = await append(`${stream.prefix}.x`, 1);
    const closed = await connectNats(testNatsUrl());
    const relay = newRelay({ nats: closed });
    await closed.close();
    expect(await relay.relayOnce()).to.equal(0);
    expect((await fx.db('outbox').where({ id: event!.id }).first()).last_error).to.equal('CONNECTION_CLOSED');
  });

  it('records a rejection that is not an Error as its text', async () => {
    const stream = await newStream();
    const [event] = await append(`${stream.prefix}.x`, 1);
    const relay = newRelay({ nats: publishesRejectingWith(fx.nc, 'broker said no') });
    expect(await relay.relayOnce()).to.equal(0);
    expect(await fx.db('outbox').where({ id: event!.id }).first('published_at', 'publish_attempts', 'last_error')).to.deep.equal({
      published_at: null,
      publish_attempts: 1,
      last_error: 'broker said no',
    });
    expect(relay.stats()).to.include({ published: 0, publishFailures: 1 });
  });

  it('its claim names its columns: a connection that prepared it keeps relaying after a migration adds an outbox column', async () => {
    const stream = await newStream();
    // One connection with named prepared statements, as the services run: the second claim reuses the first one's plan.
    const url = fx.db.client.config.connection.connectionString as string;
    const prepared = createDatabase({ url, poolMax: 1, preparedStatements: true, applicationName: 'relay-prepared' });
    try {
      const relay = newRelay({ db: prepared });
      await append(`${stream.prefix}.x`, 1);
      expect(await relay.relayOnce()).to.equal(1);
      await fx.db.schema.alterTable('outbox', (t) => t.text('test_added'));
      try {
        await append(`${stream.prefix}.x`, 1);
        // A cached plan of "select *" would now fail: "cached plan must not change result type".
        expect(await relay.relayOnce()).to.equal(1);
      } finally {
        await fx.db.schema.alterTable('outbox', (t) => t.dropColumn('test_added'));
      }
    } finally {
      await prepared.destroy();
    }
  });

  it('an empty round sends its claim and nothing else', async () => {
    const statements = recordStatements(fx.db);
    expect(await newRelay().relayOnce()).to.equal(0);
    statements.stop();
    expect(statements.sql.filter((sql) => /\boutbox\b/.test(sql))).to.have.length(1);
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
    await fx.db('outbox').update({ published_at: null }).where({ id: event!.id });
    expect(await relay.relayOnce()).to.equal(1);
    expect(relay.stats()).to.include({ published: 2, duplicates: 1 });
    expect((await readStream(fx.nc, stream.name)).length).to.equal(1);
  });

  it('the running loop purges published rows past retention and says how many', async () => {
    const { logger, lines } = capturingLogger();
    const stream = await newStream();
    const events = await append(`${stream.prefix}.x`, 3);
    const relay = newRelay({ logger, retentionMs: 1_000, cleanupIntervalMs: 0, pollIntervalMs: 20 });
    expect(await relay.relayOnce()).to.equal(3);
    // Published two seconds ago, as far as retention is concerned.
    await fx.db('outbox').update({ published_at: fx.db.raw("now() - interval '2 seconds'") });
    relay.start();
    await waitFor(
      'the rows purged',
      async () =>
        (
          await fx.db('outbox').whereIn(
            'id',
            events.map((e) => e.id),
          )
        ).length === 0,
    );
    await waitFor('the purge logged', () => lines.some((l) => l.msg === 'purged published outbox rows past retention'));
    // Three more purges that find nothing to delete: they log nothing.
    const later = statementTimes(fx.db, PURGE_SQL);
    await waitFor('three more purges', () => later.times.length >= 3);
    later.stop();
    const purged = lines.filter((l) => l.msg === 'purged published outbox rows past retention');
    expect(purged.map((l) => [l.level, l.deleted, l.component])).to.deep.equal([[30, 3, 'outbox-relay']]);
  });

  it('keeps published rows younger than the retention (default 7 days)', async () => {
    const stream = await newStream();
    await append(`${stream.prefix}.x`, 2);
    const relay = newRelay({ cleanupIntervalMs: 0, pollIntervalMs: 20 });
    expect(await relay.relayOnce()).to.equal(2);
    await fx.db('outbox').update({ published_at: fx.db.raw("now() - interval '6 days 23 hours'") });
    const [extra] = await append(`${stream.prefix}.x`, 1);
    relay.start();
    // A round after the purge ran: the extra row is published by it.
    await waitFor('the next row published', async () => (await fx.db('outbox').where({ id: extra!.id }).first()).published_at !== null);
    await relay.stop();
    expect((await fx.db('outbox').whereNotNull('published_at')).length).to.equal(3);
  });
});
