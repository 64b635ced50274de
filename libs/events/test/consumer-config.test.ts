import { expect } from 'chai';
import { headers, nanos, type Msg, type NatsConnection } from 'nats';
import { capturingLogger } from '#test/support/capturing-logger.js';
import { createTestDatabase, type TestDatabase } from '#test/support/test-database.js';
import { uuidv7 } from '#libs/ids/uuid.js';
import { silentLogger } from '#libs/logging/logger.js';
import { testNatsUrl } from '#test/support/root-hooks.js';
import { createInboxConsumer, type InboxConsumer, type InboxConsumerOptions } from '../consumer.js';
import { ensureStream } from '../streams.js';
import { connectNats, eventsMigration, sleep, uniqueToken, waitFor } from './helpers.js';

/**
 * The inbox consumer's settings and what it tells the log, against the run's
 * real NATS and a real database: defaults, validation, the consumer config it
 * asks the server for, retry delays, dead letters. consumer.test.ts covers the
 * delivery guarantees; this file pins down the knobs behind them.
 */
describe('inbox consumer: settings, server config and logs', function () {
  this.timeout(30_000);

  let testDb: TestDatabase;
  let nc: NatsConnection;
  const consumers: InboxConsumer[] = [];

  before(async () => {
    [testDb, nc] = await Promise.all([createTestDatabase('consumer_cfg', [eventsMigration]), connectNats(testNatsUrl())]);
  });
  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((c) => c.stop()));
  });
  after(async () => {
    await nc?.close();
    await testDb?.drop();
  });

  async function newStream() {
    const token = uniqueToken();
    const stream = { name: `CFG_${token}`, prefix: `cfg${token}`, durable: `cfg-${token}` };
    await ensureStream(nc, { name: stream.name, subjects: [`${stream.prefix}.>`], duplicateWindowMs: 100 });
    return stream;
  }

  type Options = Partial<InboxConsumerOptions> & Pick<InboxConsumerOptions, 'stream' | 'durableName' | 'filterSubjects'>;
  function newConsumer(options: Options): InboxConsumer {
    const consumer = createInboxConsumer({ db: testDb.db, nats: nc, logger: silentLogger(), handle: async () => undefined, ...options });
    consumers.push(consumer);
    return consumer;
  }

  function publish(subject: string, id: string | undefined, text = 'x') {
    const h = headers();
    h.set('Larder-Event-Type', 'larder.test.v1.Thing');
    return nc.jetstream().publish(subject, new TextEncoder().encode(text), { msgID: id, headers: h });
  }

  /**
   * Starts the consumer and waits until its pull request is on the server.
   * (stop() before that point hangs: see docs/testing.md, Mutation testing.)
   */
  async function started(consumer: InboxConsumer, stream: { name: string; durable: string }): Promise<InboxConsumer> {
    await consumer.start();
    const jsm = await nc.jetstreamManager();
    await waitFor('the pull subscription', async () => (await jsm.consumers.info(stream.name, stream.durable)).num_waiting > 0);
    return consumer;
  }

  async function serverConfig(stream: { name: string; durable: string }) {
    return (await (await nc.jetstreamManager()).consumers.info(stream.name, stream.durable)).config;
  }

  describe('validation at construction', () => {
    const base = { stream: 'S', durableName: 'd', filterSubjects: [] };

    for (const maxDeliver of [0, -1, 2.5]) {
      it(`refuses maxDeliver ${maxDeliver}`, () => {
        expect(() => newConsumer({ ...base, maxDeliver, backoffMs: [] })).to.throw('maxDeliver must be a positive integer');
      });
    }

    it('accepts maxDeliver 1 without backoff', () => {
      expect(() => newConsumer({ ...base, maxDeliver: 1, backoffMs: [] })).not.to.throw();
    });

    it('refuses as many backoff steps as deliveries (the server would), naming both', () => {
      expect(() => newConsumer({ ...base, maxDeliver: 2, backoffMs: [100, 200] })).to.throw(
        'maxDeliver (2) must be greater than the number of backoff steps (2)',
      );
      expect(() => newConsumer({ ...base, maxDeliver: 3, backoffMs: [100, 200] })).not.to.throw();
    });

    it('the default backoff (4 steps) needs the default maxDeliver (5) or more', () => {
      expect(() => newConsumer({ ...base, maxDeliver: 4 })).to.throw('maxDeliver (4) must be greater than the number of backoff steps (4)');
    });
  });

  describe('the consumer it asks the server for', () => {
    it('defaults: explicit acks, 5 deliveries, backoff 1/5/15/30 s, all from the start, one filter subject', async () => {
      const stream = await newStream();
      await started(newConsumer({ stream: stream.name, durableName: stream.durable, filterSubjects: [`${stream.prefix}.a`] }), stream);
      const config = await serverConfig(stream);
      expect(config).to.include({ ack_policy: 'explicit', deliver_policy: 'all', max_deliver: 5, filter_subject: `${stream.prefix}.a` });
      expect(config.backoff).to.deep.equal([1_000, 5_000, 15_000, 30_000].map((ms) => nanos(ms)));
      expect(config.filter_subjects ?? []).to.deep.equal([]);
    });

    it('without backoff the requested ack wait stands; its default is 30 s', async () => {
      const stream = await newStream();
      await started(
        newConsumer({ stream: stream.name, durableName: stream.durable, filterSubjects: [], backoffMs: [], maxDeliver: 2 }),
        stream,
      );
      const config = await serverConfig(stream);
      expect(config.ack_wait).to.equal(nanos(30_000));
      expect(config.filter_subject ?? '').to.equal('');
      expect(config.filter_subjects ?? []).to.deep.equal([]);
    });

    // The nats-server here is 2.9 (no multi-subject filters), so this is the path it takes.
    it('several subjects on a server older than 2.10: reads the whole stream, says so, acks what it does not want', async () => {
      const stream = await newStream();
      const { logger, lines } = capturingLogger();
      expect(nc.info!.version.startsWith('2.9.'), `this test expects nats-server 2.9, got ${nc.info!.version}`).to.equal(true);
      const subjects = [`${stream.prefix}.a`, `${stream.prefix}.b`];
      const seen: string[] = [];
      const consumer = newConsumer({
        stream: stream.name,
        durableName: stream.durable,
        filterSubjects: subjects,
        logger,
        handle: async (msg) => {
          seen.push(msg.subject);
        },
      });
      await consumer.start();
      const config = await serverConfig(stream);
      expect(config.filter_subjects ?? []).to.deep.equal([]);
      expect(config.filter_subject ?? '').to.equal('');
      const warned = lines.filter((l) => l.level === 40);
      expect(warned.map((l) => [l.msg, l.serverVersion, l.filterSubjects, l.component, l.stream, l.consumer])).to.deep.equal([
        [
          'server cannot filter on several subjects; filtering in the client',
          nc.info!.version,
          subjects,
          'inbox-consumer',
          stream.name,
          stream.durable,
        ],
      ]);
      for (const s of ['a', 'c', 'b']) await publish(`${stream.prefix}.${s}`, uuidv7());
      const jsm = await nc.jetstreamManager();
      await waitFor(
        'all three settled',
        async () => (await jsm.consumers.info(stream.name, stream.durable)).num_ack_pending === 0 && seen.length === 2,
      );
      expect(seen).to.deep.equal([`${stream.prefix}.a`, `${stream.prefix}.b`]);
      expect(consumer.stats()).to.include({ processed: 2, failures: 0 });
    });

    it('an existing durable is updated to the new settings, not refused', async () => {
      const stream = await newStream();
      const first = newConsumer({ stream: stream.name, durableName: stream.durable, filterSubjects: [`${stream.prefix}.a`] });
      await started(first, stream);
      await first.stop();
      await started(
        newConsumer({
          stream: stream.name,
          durableName: stream.durable,
          filterSubjects: [`${stream.prefix}.b`],
          backoffMs: [200],
          maxDeliver: 3,
        }),
        stream,
      );
      const config = await serverConfig(stream);
      expect(config).to.include({ filter_subject: `${stream.prefix}.b`, max_deliver: 3 });
      expect(config.backoff).to.deep.equal([nanos(200)]);
    });

    it('start() twice sets up once: the second call does not touch the server', async () => {
      const stream = await newStream();
      const consumer = await started(newConsumer({ stream: stream.name, durableName: stream.durable, filterSubjects: [] }), stream);
      const jsm = await nc.jetstreamManager();
      await jsm.consumers.delete(stream.name, stream.durable);
      await consumer.start();
      const lookup = await jsm.consumers.info(stream.name, stream.durable).then(
        () => 'exists',
        (err: Error) => err.message,
      );
      expect(lookup).to.match(/consumer not found/);
    });

    it('pulls 10 messages ahead by default', async () => {
      const stream = await newStream();
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const consumer = newConsumer({
        stream: stream.name,
        durableName: stream.durable,
        filterSubjects: [],
        handle: () => held,
      });
      for (let i = 0; i < 15; i++) await publish(`${stream.prefix}.n`, uuidv7());
      await consumer.start();
      const jsm = await nc.jetstreamManager();
      let pending = 0;
      await waitFor('a batch delivered', async () => {
        pending = (await jsm.consumers.info(stream.name, stream.durable)).num_ack_pending;
        return pending >= 10;
      });
      release();
      expect(pending).to.equal(10);
    });
  });

  describe('failures, retries and dead letters', () => {
    it('logs each retry with the delay from the backoff list (last step repeats), then dead-letters under "deadletter."', async () => {
      const stream = await newStream();
      const { logger, lines } = capturingLogger();
      const deadLetters: Msg[] = [];
      const sub = nc.subscribe(`deadletter.${stream.prefix}.>`, { callback: (_e, m) => deadLetters.push(m) });
      await nc.flush();
      const id = uuidv7();
      const consumer = newConsumer({
        stream: stream.name,
        durableName: stream.durable,
        filterSubjects: [],
        backoffMs: [50, 120],
        maxDeliver: 4,
        logger,
        handle: async () => {
          throw new Error('cannot apply');
        },
      });
      await consumer.start();
      await publish(`${stream.prefix}.bad`, id);
      await waitFor('dead-lettered', () => consumer.stats().deadLettered === 1 && deadLetters.length === 1);
      sub.unsubscribe();

      const retries = lines.filter((l) => l.msg === 'handler failed; will retry');
      expect(retries.map((l) => [l.level, l.deliveryCount, l.retryInMs, l.eventId, l.subject])).to.deep.equal([
        [40, 1, 50, id, `${stream.prefix}.bad`],
        [40, 2, 120, id, `${stream.prefix}.bad`],
        [40, 3, 120, id, `${stream.prefix}.bad`],
      ]);
      expect(deadLetters[0]!.subject).to.equal(`deadletter.${stream.prefix}.bad`);
      expect(deadLetters[0]!.headers?.get('Larder-Dead-Letter-Reason')).to.equal('cannot apply');
      const dead = lines.filter((l) => l.msg === 'message dead-lettered');
      expect(dead.map((l) => [l.level, l.eventId, l.subject, l.deadLetterSubject, l.deliveries, l.reason])).to.deep.equal([
        [50, id, `${stream.prefix}.bad`, `deadletter.${stream.prefix}.bad`, 4, 'cannot apply'],
      ]);
      expect(consumer.stats()).to.include({ failures: 4, deadLettered: 1, redeliveries: 3, processed: 0 });
    });

    it('without backoff a failed message is retried at once (delay 0)', async () => {
      const stream = await newStream();
      const { logger, lines } = capturingLogger();
      const consumer = newConsumer({
        stream: stream.name,
        durableName: stream.durable,
        filterSubjects: [],
        backoffMs: [],
        maxDeliver: 2,
        deadLetterSubjectPrefix: `dl${uniqueToken()}`,
        logger,
        handle: async () => {
          throw new Error('no');
        },
      });
      await consumer.start();
      await publish(`${stream.prefix}.bad`, uuidv7());
      await waitFor('dead-lettered', () => consumer.stats().deadLettered === 1);
      expect(lines.filter((l) => l.msg === 'handler failed; will retry').map((l) => l.retryInMs)).to.deep.equal([0]);
    });

    it('a handler that throws a non-Error: its text is the dead-letter reason', async () => {
      const stream = await newStream();
      const prefix = `dl${uniqueToken()}`;
      const deadLetters: Msg[] = [];
      const sub = nc.subscribe(`${prefix}.>`, { callback: (_e, m) => deadLetters.push(m) });
      await nc.flush();
      const consumer = newConsumer({
        stream: stream.name,
        durableName: stream.durable,
        filterSubjects: [],
        backoffMs: [],
        maxDeliver: 1,
        deadLetterSubjectPrefix: prefix,
        handle: async () => {
          throw 'plain string';
        },
      });
      await consumer.start();
      await publish(`${stream.prefix}.bad`, uuidv7());
      await waitFor('dead letter received', () => deadLetters.length === 1);
      sub.unsubscribe();
      expect(deadLetters[0]!.headers?.get('Larder-Dead-Letter-Reason')).to.equal('plain string');
      expect(consumer.stats()).to.include({ failures: 1, deadLettered: 1 });
    });

    it('a message without an event id counts as one failure', async () => {
      const stream = await newStream();
      const consumer = newConsumer({
        stream: stream.name,
        durableName: stream.durable,
        filterSubjects: [],
        deadLetterSubjectPrefix: `dl${uniqueToken()}`,
      });
      await consumer.start();
      await publish(`${stream.prefix}.anon`, undefined);
      await waitFor('dead-lettered', () => consumer.stats().deadLettered === 1);
      expect(consumer.stats()).to.include({ failures: 1, processed: 0 });
    });

    it('a duplicate delivery is logged at debug with its event id', async () => {
      const stream = await newStream();
      const { logger, lines } = capturingLogger();
      const id = uuidv7();
      await publish(`${stream.prefix}.twice`, id);
      // Past the stream's 100 ms duplicate window, so JetStream stores the same id again.
      await sleep(250);
      await publish(`${stream.prefix}.twice`, id);
      const consumer = newConsumer({ stream: stream.name, durableName: stream.durable, filterSubjects: [], logger });
      await consumer.start();
      await waitFor('both copies settled', () => consumer.stats().processed + consumer.stats().duplicates === 2);
      const skipped = lines.filter((l) => l.msg === 'duplicate delivery skipped');
      expect(skipped.map((l) => [l.level, l.eventId, l.subject, l.component])).to.deep.equal([
        [20, id, `${stream.prefix}.twice`, 'inbox-consumer'],
      ]);
    });
  });
});
