import { expect } from 'chai';
import type { Knex } from 'knex';
import { headers, type Msg, type NatsConnection, type PubAck } from 'nats';
import type { Migration } from '#libs/db/migrate.js';
import { createTestDatabase, type TestDatabase } from '#test/support/test-database.js';
import { uuidv7 } from '#libs/ids/uuid.js';
import { silentLogger } from '#libs/logging/logger.js';
import { createInboxConsumer, type InboxConsumer, type InboxConsumerOptions, type InboxMessage } from '../consumer.js';
import { appendToOutbox } from '../outbox.js';
import { createOutboxRelay } from '../relay.js';
import { ensureStream } from '../streams.js';
import { startThrowawayNatsServer, type ThrowawayNatsServer } from '#test/support/nats-server.js';
import { connectNats, eventsMigration, sleep, uniqueToken, waitFor } from './helpers.js';

/** The "effect" a handler applies; no unique key, so an effect applied twice shows as two rows. */
const effectsMigration: Migration = {
  name: '002_effects',
  async up(db: Knex) {
    await db.schema.createTable('effects', (t) => {
      t.increments('seq');
      t.uuid('event_id').notNullable();
      t.text('consumer').notNullable();
    });
  },
  async down(db: Knex) {
    await db.schema.dropTable('effects');
  },
};

describe('inbox consumer', function () {
  this.timeout(30_000);

  let server: ThrowawayNatsServer;
  let testDb: TestDatabase;
  let nc: NatsConnection;
  const consumers: InboxConsumer[] = [];

  before(async () => {
    [server, testDb] = await Promise.all([startThrowawayNatsServer(), createTestDatabase('events', [eventsMigration, effectsMigration])]);
    nc = await connectNats(server.url);
  });

  after(async () => {
    await nc?.close();
    await testDb?.drop();
    await server?.destroy();
  });

  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((c) => c.stop()));
  });

  /**
   * A stream of the test's own. Duplicate window at the server's minimum (100 ms),
   * so a test can store the same event id twice, as happens when the relay
   * re-publishes after the window.
   */
  async function newStream(): Promise<{ name: string; prefix: string; durable: string }> {
    const token = uniqueToken();
    const stream = { name: `CONS_${token}`, prefix: `cons${token}`, durable: `test-${token}` };
    await ensureStream(nc, { name: stream.name, subjects: [`${stream.prefix}.>`], duplicateWindowMs: 100 });
    return stream;
  }

  function newConsumer(options: Omit<InboxConsumerOptions, 'db' | 'nats' | 'logger'>): InboxConsumer {
    const consumer = createInboxConsumer({ db: testDb.db, nats: nc, logger: silentLogger(), ...options });
    consumers.push(consumer);
    return consumer;
  }

  function publish(subject: string, id: string, text: string): Promise<PubAck> {
    const h = headers();
    h.set('Larder-Event-Type', 'larder.test.v1.Thing');
    return nc.jetstream().publish(subject, new TextEncoder().encode(text), { msgID: id, headers: h });
  }

  async function applyEffect(msg: InboxMessage, trx: Knex.Transaction, consumer: string): Promise<void> {
    await trx('effects').insert({ event_id: msg.id, consumer });
  }

  async function countRows(table: 'effects' | 'inbox', eventId: string): Promise<number> {
    const row = (await testDb.db(table).where({ event_id: eventId }).count({ n: '*' }).first()) as { n: number };
    return Number(row.n);
  }

  it('applies an event delivered twice only once', async () => {
    const stream = await newStream();
    const id = uuidv7();
    const subject = `${stream.prefix}.thing`;
    // Same event id stored twice: once, then again after the duplicate window has passed.
    const first = await publish(subject, id, 'hello');
    await sleep(250);
    const second = await publish(subject, id, 'hello');
    expect(first.duplicate).to.equal(false);
    expect(second.duplicate, 'stream stored the second copy').to.equal(false);
    expect(second.seq).to.be.greaterThan(first.seq);

    const seen: InboxMessage[] = [];
    const consumer = newConsumer({
      stream: stream.name,
      durableName: stream.durable,
      filterSubjects: [`${stream.prefix}.>`],
      handle: async (msg, trx) => {
        seen.push(msg);
        await applyEffect(msg, trx, stream.durable);
      },
    });
    await consumer.start();
    await waitFor('both copies handled', () => consumer.stats().processed + consumer.stats().duplicates === 2);

    expect(seen).to.have.length(1);
    expect(seen[0]).to.include({ id, subject, eventType: 'larder.test.v1.Thing', deliveryCount: 1 });
    expect(new TextDecoder().decode(seen[0]!.data)).to.equal('hello');
    expect(await countRows('effects', id)).to.equal(1);
    expect(await countRows('inbox', id)).to.equal(1);
    expect(consumer.stats()).to.include({ processed: 1, duplicates: 1, failures: 0, deadLettered: 0 });
  });

  it('alreadyApplied: acks without the handler or an inbox row, and asks again for a second copy', async () => {
    const stream = await newStream();
    const [done, open] = [uuidv7(), uuidv7()];
    const subject = `${stream.prefix}.thing`;
    await publish(subject, done, 'done');
    await sleep(250);
    await publish(subject, done, 'done'); // after the duplicate window: stored twice
    await publish(subject, open, 'open');

    const handled: string[] = [];
    const asked: string[] = [];
    const consumer = newConsumer({
      stream: stream.name,
      durableName: stream.durable,
      filterSubjects: [`${stream.prefix}.>`],
      handle: async (msg, trx) => {
        handled.push(msg.id);
        await applyEffect(msg, trx, stream.durable);
      },
      alreadyApplied: async (msg) => {
        asked.push(msg.id);
        return new TextDecoder().decode(msg.data) === 'done';
      },
    });
    await consumer.start();
    await waitFor('three deliveries handled', () => consumer.stats().processed === 3);

    expect(asked).to.deep.equal([done, done, open]);
    expect(handled, 'the handler runs only for the event not yet applied').to.deep.equal([open]);
    expect(await countRows('effects', done)).to.equal(0);
    expect(await countRows('inbox', done), 'nothing written for an effect already in place').to.equal(0);
    expect(await countRows('effects', open)).to.equal(1);
    expect(await countRows('inbox', open)).to.equal(1);
    expect(consumer.stats()).to.include({ processed: 3, duplicates: 0, failures: 0, deadLettered: 0 });
  });

  it('alreadyApplied that throws is a failed delivery, retried like a failed handler', async () => {
    const stream = await newStream();
    const id = uuidv7();
    await publish(`${stream.prefix}.thing`, id, 'x');
    let calls = 0;
    const consumer = newConsumer({
      stream: stream.name,
      durableName: stream.durable,
      filterSubjects: [`${stream.prefix}.>`],
      backoffMs: [100],
      handle: async (msg, trx) => applyEffect(msg, trx, stream.durable),
      alreadyApplied: async () => {
        calls += 1;
        if (calls === 1) throw new Error('database gone for a moment');
        return false;
      },
    });
    await consumer.start();
    await waitFor('applied on the redelivery', () => consumer.stats().processed === 1);
    expect(calls).to.equal(2);
    expect(await countRows('effects', id)).to.equal(1);
    expect(consumer.stats()).to.include({ processed: 1, failures: 1, redeliveries: 1 });
  });

  it('commits the effect and the inbox row together: a failed attempt leaves neither', async () => {
    const stream = await newStream();
    const id = uuidv7();
    const effectsSeenOnRetry: number[] = [];
    const consumer = newConsumer({
      stream: stream.name,
      durableName: stream.durable,
      filterSubjects: [`${stream.prefix}.>`],
      backoffMs: [100],
      handle: async (msg, trx) => {
        if (msg.deliveryCount > 1) {
          // Inside the retry's transaction: the first attempt's writes must be gone.
          const effects = await trx('effects').where({ event_id: msg.id }).count({ n: '*' }).first();
          const inbox = await trx('inbox').where({ event_id: msg.id }).count({ n: '*' }).first();
          effectsSeenOnRetry.push(Number(effects!.n), Number(inbox!.n));
        }
        await applyEffect(msg, trx, stream.durable);
        if (msg.deliveryCount === 1) throw new Error('failed after writing the effect');
      },
    });
    await consumer.start();
    await publish(`${stream.prefix}.thing`, id, 'x');
    await waitFor('processed on the second delivery', () => consumer.stats().processed === 1);

    // On retry: no effect row from attempt 1, and only the retry's own (uncommitted) inbox row.
    expect(effectsSeenOnRetry).to.deep.equal([0, 1]);
    expect(await countRows('effects', id)).to.equal(1);
    expect(await countRows('inbox', id)).to.equal(1);
    expect(consumer.stats()).to.include({ processed: 1, failures: 1, redeliveries: 1, deadLettered: 0 });
  });

  it('dead-letters a message that keeps failing after maxDeliver deliveries, without blocking the next one', async () => {
    const stream = await newStream();
    const deadLetterPrefix = `dl${uniqueToken()}`;
    const deadLetters: Msg[] = [];
    const sub = nc.subscribe(`${deadLetterPrefix}.>`, { callback: (_err, msg) => deadLetters.push(msg) });
    await nc.flush();

    const poison = uuidv7();
    const good = uuidv7();
    const events: string[] = [];
    const consumer = newConsumer({
      stream: stream.name,
      durableName: stream.durable,
      filterSubjects: [`${stream.prefix}.>`],
      maxDeliver: 3,
      backoffMs: [150, 150],
      deadLetterSubjectPrefix: deadLetterPrefix,
      handle: async (msg, trx) => {
        await applyEffect(msg, trx, stream.durable);
        if (msg.id === poison) {
          events.push(`poison failed #${msg.deliveryCount}`);
          throw new Error(`boom\non delivery ${msg.deliveryCount}`);
        }
        events.push('good processed');
      },
    });
    await consumer.start();
    await publish(`${stream.prefix}.bad`, poison, 'poison');
    await publish(`${stream.prefix}.good`, good, 'fine');

    try {
      await waitFor('dead letter received', () => deadLetters.length === 1);
      await waitFor('good message processed', () => consumer.stats().processed === 1);
    } finally {
      sub.unsubscribe();
    }

    // The good message, published after the poison one, did not wait for it to give up.
    expect(events.indexOf('good processed')).to.be.lessThan(events.indexOf('poison failed #3'));
    expect(events.filter((e) => e.startsWith('poison'))).to.deep.equal(['poison failed #1', 'poison failed #2', 'poison failed #3']);

    const [dead] = deadLetters;
    expect(dead!.subject).to.equal(`${deadLetterPrefix}.${stream.prefix}.bad`);
    expect(new TextDecoder().decode(dead!.data)).to.equal('poison');
    expect(dead!.headers?.get('Nats-Msg-Id')).to.equal(poison);
    expect(dead!.headers?.get('Larder-Event-Type')).to.equal('larder.test.v1.Thing');
    expect(dead!.headers?.get('Larder-Dead-Letter-Reason')).to.equal('boom on delivery 3');
    expect(dead!.headers?.get('Larder-Dead-Letter-Consumer')).to.equal(stream.durable);

    expect(consumer.stats()).to.deep.equal({
      processed: 1,
      duplicates: 0,
      failures: 3,
      deadLettered: 1,
      redeliveries: 2,
    });
    // Rolled back every time: no effect, no inbox row for the poison message.
    expect(await countRows('effects', poison)).to.equal(0);
    expect(await countRows('inbox', poison)).to.equal(0);
    expect(await countRows('effects', good)).to.equal(1);

    // Terminated, not left pending: nothing is waiting for an ack, nothing will come back.
    const jsm = await nc.jetstreamManager();
    await waitFor('no acks pending', async () => {
      const info = await jsm.consumers.info(stream.name, stream.durable);
      return info.num_ack_pending === 0 && info.num_pending === 0;
    });
    await sleep(400);
    expect(consumer.stats().failures).to.equal(3);
  });

  it('dead-letters a message without an event id at once and terminates it (no wait for ack_wait)', async () => {
    const stream = await newStream();
    const deadLetterPrefix = `dl${uniqueToken()}`;
    const deadLetters: Msg[] = [];
    const sub = nc.subscribe(`${deadLetterPrefix}.>`, { callback: (_err, msg) => deadLetters.push(msg) });
    await nc.flush();
    let handled = 0;
    const consumer = newConsumer({
      stream: stream.name,
      durableName: stream.durable,
      filterSubjects: [`${stream.prefix}.>`],
      // ack_wait becomes backoff[0] = 5 s on the server: a message that was not
      // really terminated would still be pending during the check below.
      backoffMs: [5_000],
      deadLetterSubjectPrefix: deadLetterPrefix,
      handle: async () => {
        handled++;
      },
    });
    await consumer.start();
    await nc.jetstream().publish(`${stream.prefix}.anonymous`, new TextEncoder().encode('no id')); // no msgID

    try {
      await waitFor('dead letter received', () => deadLetters.length === 1, { timeoutMs: 3_000 });
    } finally {
      sub.unsubscribe();
    }
    expect(handled).to.equal(0);
    expect(deadLetters[0]!.headers?.get('Larder-Dead-Letter-Reason')).to.match(/Nats-Msg-Id/);
    expect(consumer.stats()).to.include({ deadLettered: 1, processed: 0 });

    const jsm = await nc.jetstreamManager();
    await waitFor(
      'terminated message no longer pending',
      async () => (await jsm.consumers.info(stream.name, stream.durable)).num_ack_pending === 0,
      { timeoutMs: 2_000 },
    );
  });

  it('receives only its filter subjects, also when the server cannot filter on several (nats-server < 2.10)', async () => {
    const stream = await newStream();
    const seen: string[] = [];
    const consumer = newConsumer({
      stream: stream.name,
      durableName: stream.durable,
      filterSubjects: [`${stream.prefix}.orders.confirmed`, `${stream.prefix}.orders.cancelled`],
      handle: async (msg) => {
        seen.push(msg.subject);
      },
    });
    await consumer.start();
    for (const event of ['confirmed', 'placed', 'cancelled', 'shipped']) {
      await publish(`${stream.prefix}.orders.${event}`, uuidv7(), event);
    }
    const jsm = await nc.jetstreamManager();
    await waitFor('all delivered messages settled', async () => {
      const info = await jsm.consumers.info(stream.name, stream.durable);
      return consumer.stats().processed === 2 && info.num_ack_pending === 0 && info.num_pending === 0;
    });
    expect(seen.sort()).to.deep.equal([`${stream.prefix}.orders.cancelled`, `${stream.prefix}.orders.confirmed`]);
  });

  it('stop() finishes the message in hand; a new instance on the same durable takes the rest, none twice', async () => {
    const stream = await newStream();
    const ids = [uuidv7(), uuidv7(), uuidv7()];
    for (const id of ids) await publish(`${stream.prefix}.thing`, id, id);

    let entered = false;
    const firstHandled: string[] = [];
    const first = newConsumer({
      stream: stream.name,
      durableName: stream.durable,
      filterSubjects: [`${stream.prefix}.>`],
      backoffMs: [200],
      handle: async (msg, trx) => {
        entered = true;
        await sleep(300);
        await applyEffect(msg, trx, stream.durable);
        firstHandled.push(msg.id);
      },
    });
    await first.start();
    await waitFor('first handler running', () => entered);
    await first.stop();
    expect(firstHandled).to.deep.equal([ids[0]]);
    expect(first.stats().processed).to.equal(1);

    const secondHandled: string[] = [];
    const second = newConsumer({
      stream: stream.name,
      durableName: stream.durable,
      filterSubjects: [`${stream.prefix}.>`],
      backoffMs: [200],
      handle: async (msg, trx) => {
        await applyEffect(msg, trx, stream.durable);
        secondHandled.push(msg.id);
      },
    });
    await second.start();
    await waitFor('the rest handled', () => secondHandled.length === 2);
    expect(secondHandled.sort()).to.deep.equal(ids.slice(1).sort());
    for (const id of ids) expect(await countRows('effects', id)).to.equal(1);
  });

  it('keeps a slow handler’s message from being redelivered while it runs (ack_wait is cut to backoff[0])', async () => {
    const stream = await newStream();
    const deliveries: number[] = [];
    const consumer = newConsumer({
      stream: stream.name,
      durableName: stream.durable,
      filterSubjects: [`${stream.prefix}.>`],
      backoffMs: [300],
      handle: async (msg) => {
        deliveries.push(msg.deliveryCount);
        await sleep(1_000);
      },
    });
    await consumer.start();
    await publish(`${stream.prefix}.slow`, uuidv7(), 'slow');
    await waitFor('slow message processed', () => consumer.stats().processed === 1);
    await sleep(400);
    expect(deliveries).to.deep.equal([1]);
    expect(consumer.stats()).to.include({ redeliveries: 0, duplicates: 0 });
  });

  it('keeps consuming across a broker restart', async () => {
    const stream = await newStream();
    const seen: string[] = [];
    const consumer = newConsumer({
      stream: stream.name,
      durableName: stream.durable,
      filterSubjects: [`${stream.prefix}.>`],
      handle: async (msg) => {
        seen.push(msg.id);
      },
    });
    await consumer.start();
    const before = uuidv7();
    await publish(`${stream.prefix}.thing`, before, 'before');
    await waitFor('first message', () => seen.length === 1);

    await server.stop();
    await sleep(300);
    await server.start();
    await waitFor('client reconnected', () => !nc.isClosed() && nc.info !== undefined, { timeoutMs: 5_000 });

    const after = uuidv7();
    await waitFor(
      'publish accepted after restart',
      async () => {
        try {
          await publish(`${stream.prefix}.thing`, after, 'after');
          return true;
        } catch {
          return false;
        }
      },
      { timeoutMs: 10_000, intervalMs: 200 },
    );
    await waitFor('message after the restart', () => seen.length === 2, { timeoutMs: 15_000 });
    expect(seen).to.deep.equal([before, after]);
  });

  it('end to end: an outbox row reaches the handler with its id, type and correlation id', async () => {
    const stream = await newStream();
    const relayNats = await connectNats(server.url);
    const relay = createOutboxRelay({ db: testDb.db, nats: relayNats, logger: silentLogger(), pollIntervalMs: 50 });
    const seen: InboxMessage[] = [];
    const consumer = newConsumer({
      stream: stream.name,
      durableName: stream.durable,
      filterSubjects: [`${stream.prefix}.orders.confirmed`],
      handle: async (msg) => {
        seen.push(msg);
      },
    });
    await consumer.start();
    relay.start();
    try {
      const id = uuidv7();
      await testDb.db.transaction((trx) =>
        appendToOutbox(trx, [
          {
            id,
            subject: `${stream.prefix}.orders.confirmed`,
            type: 'larder.orders.v1.OrderConfirmed',
            payload: new Uint8Array([1, 2, 3]),
            correlationId: 'req-42',
          },
        ]),
      );
      relay.wake();
      await waitFor('event handled', () => seen.length === 1);
      expect(seen[0]).to.include({
        id,
        eventType: 'larder.orders.v1.OrderConfirmed',
        correlationId: 'req-42',
        deliveryCount: 1,
      });
      expect([...seen[0]!.data]).to.deep.equal([1, 2, 3]);
    } finally {
      await relay.stop();
      await relayNats.close();
    }
  });
});
