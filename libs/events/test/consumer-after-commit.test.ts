import { expect } from 'chai';
import type { Knex } from 'knex';
import type { NatsConnection } from 'nats';
import { createDatabase } from '#libs/db/knex.js';
import type { Migration } from '#libs/db/migrate.js';
import { uuidv7 } from '#libs/ids/uuid.js';
import { silentLogger } from '#libs/logging/logger.js';
import { capturingLogger } from '#test/support/capturing-logger.js';
import { testNatsUrl } from '#test/support/root-hooks.js';
import { createTestDatabase, type TestDatabase } from '#test/support/test-database.js';
import { createInboxConsumer, type InboxConsumer, type InboxConsumerOptions } from '../consumer.js';
import { ensureStream } from '../streams.js';
import { connectNats, eventsMigration, uniqueToken, waitFor } from './helpers.js';

/**
 * effects: what a handler writes. parked: a row whose foreign key is checked only at
 * COMMIT (deferred), so a handler can return normally and its transaction still fail.
 */
const tablesMigration: Migration = {
  name: '002_after_commit',
  async up(db: Knex) {
    await db.schema.createTable('effects', (t) => {
      t.increments('seq');
      t.uuid('event_id').notNullable();
    });
    await db.raw('create table parents (id int primary key)');
    await db.raw('create table parked (parent int references parents (id) deferrable initially deferred)');
  },
  async down(db: Knex) {
    await db.schema.dropTable('parked');
    await db.schema.dropTable('parents');
    await db.schema.dropTable('effects');
  },
};

describe('inbox consumer: after-commit hooks', function () {
  this.timeout(30_000);
  let testDb: TestDatabase;
  /** A pool of its own: what it sees is committed, not the consumer's transaction. */
  let observer: Knex;
  let nc: NatsConnection;
  const consumers: InboxConsumer[] = [];

  before(async () => {
    testDb = await createTestDatabase('events_after_commit', [eventsMigration, tablesMigration]);
    observer = createDatabase({ url: testDb.url, poolMax: 1, applicationName: 'after-commit-observer' });
    nc = await connectNats(testNatsUrl());
  });
  after(async () => {
    await nc?.close();
    await observer?.destroy();
    await testDb?.drop();
  });
  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((c) => c.stop()));
  });

  async function newStream(): Promise<{ stream: string; subject: string; durableName: string }> {
    const token = uniqueToken();
    await ensureStream(nc, { name: `AFTER_${token}`, subjects: [`after${token}.>`], duplicateWindowMs: 100 });
    return { stream: `AFTER_${token}`, subject: `after${token}.thing`, durableName: `after-${token}` };
  }

  function newConsumer(options: Omit<InboxConsumerOptions, 'db' | 'nats' | 'logger' | 'filterSubjects'> & Partial<InboxConsumerOptions>) {
    const consumer = createInboxConsumer({ db: testDb.db, nats: nc, logger: silentLogger(), filterSubjects: [], ...options });
    consumers.push(consumer);
    return consumer;
  }

  function publish(subject: string, id: string): Promise<unknown> {
    return nc.jetstream().publish(subject, new Uint8Array(), { msgID: id });
  }

  /** Rows of table for event id, read on the observer's own connection. */
  async function committedRows(table: 'effects' | 'inbox', eventId: string): Promise<number> {
    const row = (await observer(table).where({ event_id: eventId }).count({ n: '*' }).first()) as { n: number | string };
    return Number(row.n);
  }

  it('runs the hook after the commit: another connection already sees the effect and the inbox row', async () => {
    const target = await newStream();
    const id = uuidv7();
    const order: string[] = [];
    const seenByHook: { effects: number; inbox: number }[] = [];
    const consumer = newConsumer({
      ...target,
      handle: async (msg, trx, { afterCommit }) => {
        await trx('effects').insert({ event_id: msg.id });
        afterCommit(async () => {
          order.push('hook');
          seenByHook.push({ effects: await committedRows('effects', msg.id), inbox: await committedRows('inbox', msg.id) });
        });
        // Still inside the transaction: the observer must not see the row yet.
        expect(await committedRows('effects', msg.id), 'uncommitted').to.equal(0);
        order.push('handler returned');
      },
    });
    await consumer.start();
    await publish(target.subject, id);
    await waitFor('the hook ran', () => seenByHook.length === 1);

    expect(order).to.deep.equal(['handler returned', 'hook']);
    expect(seenByHook).to.deep.equal([{ effects: 1, inbox: 1 }]);
    expect(consumer.stats()).to.include({ processed: 1, failures: 0 });
  });

  it('does not run the hook when the handler throws; the redelivery that commits runs its own once', async () => {
    const target = await newStream();
    const id = uuidv7();
    const hooks: number[] = [];
    const consumer = newConsumer({
      ...target,
      backoffMs: [100],
      handle: async (msg, trx, { afterCommit }) => {
        await trx('effects').insert({ event_id: msg.id });
        afterCommit(() => void hooks.push(msg.deliveryCount));
        if (msg.deliveryCount === 1) throw new Error('failed after asking for the hook');
      },
    });
    await consumer.start();
    await publish(target.subject, id);
    // The hook runs right after processed is counted, in the same turn: no wait for it needed.
    await waitFor('applied on the redelivery', () => consumer.stats().processed === 1);

    expect(hooks, 'only the committed delivery’s hook').to.deep.equal([2]);
    expect(await committedRows('effects', id)).to.equal(1);
    expect(consumer.stats()).to.include({ processed: 1, failures: 1 });
  });

  it('does not run the hook when the handler returned but COMMIT failed (a deferred constraint)', async () => {
    const target = await newStream();
    const id = uuidv7();
    const hooks: number[] = [];
    const consumer = newConsumer({
      ...target,
      backoffMs: [100],
      handle: async (msg, trx, { afterCommit }) => {
        await trx('effects').insert({ event_id: msg.id });
        // No parent 1: accepted now, refused at COMMIT.
        if (msg.deliveryCount === 1) await trx('parked').insert({ parent: 1 });
        afterCommit(() => void hooks.push(msg.deliveryCount));
      },
    });
    await consumer.start();
    await publish(target.subject, id);
    // The hook runs right after processed is counted, in the same turn: no wait for it needed.
    await waitFor('applied on the redelivery', () => consumer.stats().processed === 1);

    expect(hooks).to.deep.equal([2]);
    expect(await committedRows('effects', id)).to.equal(1);
    const parked = (await observer('parked').count({ n: '*' }).first()) as { n: number | string };
    expect(Number(parked.n)).to.equal(0);
    expect(consumer.stats()).to.include({ processed: 1, failures: 1 });
  });

  it('logs a hook that throws or rejects, runs the hooks after it, and neither retries nor fails the message', async () => {
    const target = await newStream();
    const [first, second] = [uuidv7(), uuidv7()];
    const { logger, lines } = capturingLogger();
    const ran: string[] = [];
    const consumer = newConsumer({
      ...target,
      logger,
      handle: async (msg, trx, { afterCommit }) => {
        await trx('effects').insert({ event_id: msg.id });
        afterCommit(() => {
          ran.push(`throws ${msg.id}`);
          throw new Error('hook threw');
        });
        afterCommit(async () => {
          ran.push(`rejects ${msg.id}`);
          throw new Error('hook rejected');
        });
        afterCommit(() => void ran.push(`fine ${msg.id}`));
      },
    });
    await consumer.start();
    await publish(target.subject, first);
    await publish(target.subject, second);
    await waitFor('both messages and their hooks', () => ran.length === 6);

    // (A redelivery after a slow ack is possible on a busy machine; it finds the inbox row and runs no hook.)
    expect(ran).to.deep.equal([first, second].flatMap((id) => [`throws ${id}`, `rejects ${id}`, `fine ${id}`]));
    expect(consumer.stats(), 'neither message counted as failed').to.include({ processed: 2, failures: 0, deadLettered: 0 });
    const failures = lines.filter((line) => line.msg === 'after-commit hook failed');
    expect(failures.map((line) => [line.eventId, (line.err as { message: string }).message])).to.deep.equal([
      [first, 'hook threw'],
      [first, 'hook rejected'],
      [second, 'hook threw'],
      [second, 'hook rejected'],
    ]);
    expect(failures.every((line) => line.level === 50)).to.equal(true);
  });
});
