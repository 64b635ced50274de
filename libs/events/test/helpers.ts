import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { connect, type NatsConnection, type StoredMsg } from 'nats';
import type { Migration } from '#libs/db/migrate.js';
import { addOutboxTraceContext, createInboxTable, createOutboxTable } from '../outbox-schema.js';

/** The outbox and inbox tables, as the services' own migrations will create them. */
export const eventsMigration: Migration = {
  name: '001_events',
  async up(db: Knex) {
    await createOutboxTable(db);
    await addOutboxTraceContext(db);
    await createInboxTable(db);
  },
  async down(db: Knex) {
    await db.schema.dropTable('inbox');
    await db.schema.dropTable('outbox');
  },
};

/** Reconnect forever with a short wait: clients must ride out a broker restart. */
export function connectNats(url: string): Promise<NatsConnection> {
  return connect({ servers: url, maxReconnectAttempts: -1, reconnectTimeWait: 100, name: 'events-test' });
}

/** A short random token for stream, subject and durable names unique to this run. */
export function uniqueToken(): string {
  return `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

/**
 * Polls until check() is true; fails after timeoutMs. Every test wait is bounded this way
 * (by performance.now(): a test may stub Date.now).
 */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  { timeoutMs = 10_000, intervalMs = 50 } = {},
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await check()) return;
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Every message in the stream, by sequence (direct reads: no consumer left behind). */
export async function readStream(nc: NatsConnection, stream: string): Promise<StoredMsg[]> {
  const jsm = await nc.jetstreamManager();
  const { state } = await jsm.streams.info(stream);
  const messages: StoredMsg[] = [];
  if (state.messages === 0) return messages;
  for (let seq = state.first_seq; seq <= state.last_seq; seq++) {
    messages.push(await jsm.streams.getMessage(stream, { seq }));
  }
  return messages;
}

/** Nats-Msg-Id of each stored message, in stream order. */
export function messageIds(messages: readonly StoredMsg[]): string[] {
  return messages.map((m) => m.header.get('Nats-Msg-Id'));
}

export function duplicatesIn(values: readonly string[]): string[] {
  const seen = new Set<string>();
  const dupes = new Set<string>();
  for (const value of values) {
    if (seen.has(value)) dupes.add(value);
    seen.add(value);
  }
  return [...dupes];
}
