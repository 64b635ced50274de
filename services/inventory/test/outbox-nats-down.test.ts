import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { connect, nanos, type NatsConnection } from 'nats';
import { AdjustmentReason } from '#libs/contracts/larder/inventory/v1/resources.js';
import { ensureStream, INVENTORY_STREAM } from '#libs/events/streams.js';
import { duplicatesIn } from '#libs/events/test/helpers.js';
import { eventually } from '#test/support/eventually.js';
import { delay } from '#test/support/free-port.js';
import { startThrowawayNatsServer, type ThrowawayNatsServer } from '#test/support/nats-server.js';
import { createTestProduct, startTestInventory, stockOf, type TestInventory } from './harness.js';

/**
 * Short enough that JetStream's Nats-Msg-Id deduplication cannot hide a re-publish the relay
 * makes after the broker is back (the service's own window is two hours).
 */
const DUPLICATE_WINDOW_MS = 1_000;

/** Every message of a stream, read from its start by a JetStream (ordered) consumer; bounded. */
async function idsInStream(nc: NatsConnection, stream: string): Promise<string[]> {
  const { state } = await (await nc.jetstreamManager()).streams.info(stream);
  const consumer = await (await nc.jetstream()).consumers.get(stream);
  const ids: string[] = [];
  while (ids.length < state.messages) {
    const batch = await consumer.fetch({ max_messages: state.messages - ids.length, expires: 5_000 });
    let got = 0;
    for await (const message of batch) {
      ids.push(message.headers?.get('Nats-Msg-Id') ?? `(no id, seq ${message.seq})`);
      got += 1;
    }
    if (got === 0) throw new Error(`read ${ids.length} of ${state.messages} messages of ${stream}, then nothing for 5 s`);
  }
  return ids;
}

describe('inventory outbox with NATS down (service level)', function () {
  this.timeout(120_000);
  let nats: ThrowawayNatsServer;
  let inv: TestInventory;
  let reader: NatsConnection;

  before(async () => {
    nats = await startThrowawayNatsServer();
    inv = await startTestInventory({ natsUrl: nats.url });
    // The service creates its streams once, at start; shorten the window after that, so it sticks.
    await inv.running.runtime.ready;
    reader = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 100, name: 'outbox-test' });
    const info = await ensureStream(reader, { ...INVENTORY_STREAM, duplicateWindowMs: DUPLICATE_WINDOW_MS });
    expect(info.config.duplicate_window).to.equal(nanos(DUPLICATE_WINDOW_MS));
  });
  after(async () => {
    await reader?.close();
    await inv?.stop();
    await nats?.destroy();
  });

  const unpublished = async () => (await inv.db('outbox').whereNull('published_at').select('id', 'publish_attempts')) as Row[];
  interface Row {
    id: string;
    publish_attempts: number;
  }

  it('reserve, commit and adjust succeed while NATS is down; afterwards every event is in the stream exactly once', async () => {
    const product = await createTestProduct(inv.api, { initialStock: 10 });
    await eventually('the product events to be published', async () => (await unpublished()).length === 0 || 'backlog');
    await nats.stop();
    const beforeOutage: string[] = await inv.db('outbox').pluck('id');

    const [first, second] = [randomUUID(), randomUUID()];
    await inv.api.reserveStock({ orderId: first, items: [{ productId: product.id, quantity: 3 }] });
    await inv.api.commitReservation({ orderId: first });
    await inv.api.reserveStock({ orderId: second, items: [{ productId: product.id, quantity: 2 }] });
    await inv.api.releaseReservation({ orderId: second, reason: 'test' });
    const restock = { productId: product.id, delta: 5, reason: AdjustmentReason.ADJUSTMENT_REASON_RESTOCK };
    await inv.api.adjustStock({ ...restock, idempotencyKey: `restock-${product.id}` });
    await inv.api.adjustStock({
      productId: product.id,
      delta: -1,
      reason: AdjustmentReason.ADJUSTMENT_REASON_DAMAGED,
      idempotencyKey: `damaged-${product.id}`,
    });
    expect(await stockOf(inv.api, product.id)).to.include({ available: 11, reserved: 0, sold: 3 });

    // The relay really tried (and failed) to publish every row written during the outage, so a
    // publish the client buffered, or one whose ack was lost, could come back as a duplicate.
    const duringOutage = (await unpublished()).map((r) => r.id);
    expect(duringOutage.length, 'outbox rows written while NATS was down').to.be.greaterThan(5);
    expect(duringOutage.filter((id) => beforeOutage.includes(id))).to.deep.equal([]);
    await eventually(
      'a failed publish attempt for every row written during the outage',
      async () => {
        const rows = await unpublished();
        const untried = rows.filter((r) => r.publish_attempts === 0).length;
        return (rows.length === duringOutage.length && untried === 0) || `${rows.length} unpublished, ${untried} not yet tried`;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );

    await nats.start();
    await eventually('the outbox to drain after NATS is back', async () => (await unpublished()).length === 0 || 'backlog', {
      timeoutMs: 30_000,
    });
    // A re-publish after the duplicate window is stored as a second message, not dropped: give it
    // time to happen. Nothing to poll for: the point is that nothing more arrives.
    await delay(3 * DUPLICATE_WINDOW_MS);

    const inStream = await idsInStream(reader, INVENTORY_STREAM.name);
    const inOutbox: string[] = await inv.db('outbox').pluck('id');
    const stats = (await inv.running.runtime.ready).relay.stats();
    console.log(
      `      ${duringOutage.length} events written during the outage; stream ${inStream.length} messages, outbox ${inOutbox.length} rows; relay ${JSON.stringify(stats)}`,
    );
    expect(duplicatesIn(inStream), 'event ids in the stream twice').to.deep.equal([]);
    expect([...inStream].sort()).to.deep.equal([...inOutbox].sort());
  });
});
