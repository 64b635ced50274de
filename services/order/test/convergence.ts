import { expect } from 'chai';
import type { JetStreamManager, NatsConnection } from 'nats';
import { INVENTORY_STREAM, ORDERS_STREAM } from '#libs/events/streams.js';
import { duplicatesIn, messageIds, readStream } from '#libs/events/test/helpers.js';
import { stockOf, type TestSystem } from './system.js';

/** Statuses (as the order table has them) an order rests in once its saga is done and nothing more happens without a caller. */
export const SETTLED_STATUSES = new Set(['CONFIRMED', 'CANCELLED', 'FAILED']);

const STREAMS = [ORDERS_STREAM.name, INVENTORY_STREAM.name];

/**
 * Every durable consumer of our streams that still has messages to deliver or
 * acks outstanding. While a killed stream leader is being replaced, the
 * JetStream API may not answer in time: that is "not settled yet" (a reason, so
 * `eventually` asks again), not a failure.
 */
export async function busyConsumers(jsm: JetStreamManager): Promise<string[]> {
  const busy: string[] = [];
  for (const stream of STREAMS) {
    let consumers;
    try {
      consumers = await jsm.consumers.list(stream).next();
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code !== 'TIMEOUT' && code !== '503') throw error;
      busy.push(`${stream}: the JetStream API did not answer (${code}), a stream leader may be being elected`);
      continue;
    }
    for (const consumer of consumers) {
      if (consumer.num_pending > 0 || consumer.num_ack_pending > 0)
        busy.push(`${stream}/${consumer.name}: pending ${consumer.num_pending}, ack pending ${consumer.num_ack_pending}`);
    }
  }
  return busy;
}

/**
 * For `eventually`: true once every one of `orderIds` rests in a settled status
 * with no lease held, both outboxes are drained, every consumer is idle and no
 * unit of `productIds` is still reserved; otherwise what is still moving.
 */
export async function systemConverged(
  system: TestSystem,
  jsm: JetStreamManager,
  orderIds: readonly string[],
  productIds: readonly string[],
): Promise<true | string> {
  const statuses: { status: string; lease_token: string | null }[] = await system.orderDb
    .db('orders')
    .whereIn('id', orderIds)
    .select('status', 'lease_token');
  const unsettled = statuses.filter((s) => !SETTLED_STATUSES.has(s.status) || s.lease_token).length;
  if (statuses.length !== orderIds.length || unsettled > 0) return `${unsettled} of ${statuses.length} orders unsettled`;
  for (const db of [system.orderDb.db, system.inventoryDb.db]) {
    const [{ count }] = await db('outbox').whereNull('published_at').count<{ count: string }[]>('* as count');
    if (Number(count) > 0) return `${count} outbox rows unpublished`;
  }
  const busy = await busyConsumers(jsm);
  if (busy.length > 0) return busy.join('; ');
  const held = (await Promise.all(productIds.map((id) => stockOf(system, id)))).reduce((sum, s) => sum + s.reserved, 0);
  return held === 0 || `${held} units still reserved`;
}

/**
 * Every outbox event of both services is in its stream exactly once (the
 * streams must hold this system's events only). Returns each stream's event ids.
 */
export async function expectStreamsMatchOutboxes(system: TestSystem, nc: NatsConnection): Promise<Record<string, string[]>> {
  const streamIds: Record<string, string[]> = {};
  for (const [stream, db] of [
    [ORDERS_STREAM.name, system.orderDb.db],
    [INVENTORY_STREAM.name, system.inventoryDb.db],
  ] as const) {
    const inStream = messageIds(await readStream(nc, stream));
    const inOutbox: string[] = await db('outbox').pluck('id');
    expect(duplicatesIn(inStream), `event ids twice in ${stream}`).to.deep.equal([]);
    expect([...inStream].sort(), `${stream} against its outbox`).to.deep.equal([...inOutbox].sort());
    streamIds[stream] = inStream;
  }
  return streamIds;
}
