import type { Knex } from 'knex';
import type { NatsConnection } from 'nats';
import { pino } from 'pino';
import { createTestDatabase, type TestDatabase } from '#test/support/test-database.js';
import { uuidv7 } from '#libs/ids/uuid.js';
import { testNatsUrl } from '#test/support/root-hooks.js';
import { appendToOutbox, type OutboxEvent } from '../outbox.js';
import { createOutboxRelay, type OutboxRelay, type OutboxRelayOptions } from '../relay.js';
import { connectNats, eventsMigration } from './helpers.js';

export interface RelayFixture {
  readonly db: Knex;
  /** The run's NATS: relays publish through it, tests read streams back through it. */
  readonly nc: NatsConnection;
  /** A relay on the fixture's outbox (silent unless given a logger), stopped after the test. */
  newRelay(options?: Partial<OutboxRelayOptions>): OutboxRelay;
  /** `count` events on `subject`, committed in one transaction. */
  append(subject: string, count: number, correlationId?: string): Promise<OutboxEvent[]>;
}

/**
 * Mocha hooks for relay tests in a describe(): a fresh database with the outbox
 * (emptied before each test) and a connection to the run's NATS.
 */
export function relayFixture(databaseName: string): RelayFixture {
  let testDb: TestDatabase | undefined;
  let nc: NatsConnection | undefined;
  const relays: OutboxRelay[] = [];

  before(async () => {
    [testDb, nc] = await Promise.all([createTestDatabase(databaseName, [eventsMigration]), connectNats(testNatsUrl())]);
  });
  beforeEach(async () => {
    await testDb!.db('outbox').del();
  });
  afterEach(async () => {
    await Promise.all(relays.splice(0).map((r) => r.stop()));
  });
  after(async () => {
    await nc?.close();
    await testDb?.drop();
  });

  return {
    get db() {
      return testDb!.db;
    },
    get nc() {
      return nc!;
    },
    newRelay(options = {}) {
      const relay = createOutboxRelay({ db: testDb!.db, nats: nc!, logger: pino({ level: 'silent' }), ...options });
      relays.push(relay);
      return relay;
    },
    async append(subject, count, correlationId) {
      const events = Array.from({ length: count }, (_, i) => ({
        id: uuidv7(),
        subject,
        type: 'larder.test.v1.Thing',
        payload: new TextEncoder().encode(`p${i}`),
        correlationId,
      }));
      await testDb!.db.transaction((trx) => appendToOutbox(trx, events));
      return events;
    },
  };
}
