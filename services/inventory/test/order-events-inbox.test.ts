import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { connect, type NatsConnection } from 'nats';
import { OrderCancelled, OrderConfirmed } from '#libs/contracts/larder/order/v1/events.js';
import { ReservationStatus } from '#libs/contracts/larder/inventory/v1/resources.js';
import { Order } from '#libs/contracts/larder/order/v1/resources.js';
import { ORDER_EVENTS } from '#libs/events/catalog.js';
import type { InboxMessage } from '#libs/events/consumer.js';
import { uuidv7 } from '#libs/ids/uuid.js';
import { eventually } from '#test/support/eventually.js';
import { testNatsUrl } from '#test/support/root-hooks.js';
import { applyOrderEvent } from '../consumers/order-events.js';
import { createTestProduct, startTestInventory, stockOf, type TestInventory } from './harness.js';

const confirmed = (orderId: string) => OrderConfirmed.encode({ metadata: undefined, order: Order.fromPartial({ id: orderId }) }).finish();
const cancelled = (orderId: string) =>
  OrderCancelled.encode({ metadata: undefined, order: Order.fromPartial({ id: orderId, cancelReason: 'customer asked' }) }).finish();

/**
 * The order-event consumer as app.ts wires it (settlement batching on for the
 * RPCs), on a pool of ONE connection, an allowed DB_POOL_MAX: the settlement
 * must run on the inbox transaction's connection, not wait for a second one.
 */
describe('order events at inventory: settled in the inbox transaction', function () {
  this.timeout(30_000);
  let inv: TestInventory;
  let nc: NatsConnection;

  before(async () => {
    // A relay that polls once a minute and no sweeper (each sweep wakes it): an event published
    // within the test's wait was woken by the commit that wrote it.
    inv = await startTestInventory({ env: { DB_POOL_MAX: '1', OUTBOX_POLL_MS: '60000', SWEEP_INTERVAL_MS: '3600000' } });
    nc = await connect({ servers: testNatsUrl(), name: 'order-events-inbox-test' });
  });
  after(async () => {
    await nc?.close();
    await inv?.stop();
  });

  async function reservedOrder(productId: string): Promise<string> {
    const orderId = randomUUID();
    await inv.api.reserveStock({ orderId, items: [{ productId, quantity: 2 }] });
    return orderId;
  }

  it('the effect rolls back with the inbox row: an inbox insert that fails after it leaves the reservation RESERVED', async () => {
    const product = await createTestProduct(inv.api, { initialStock: 10 });
    const orderId = await reservedOrder(product.id);
    const stockBefore = await stockOf(inv.api, product.id);
    const message: InboxMessage = { id: uuidv7(), subject: ORDER_EVENTS.confirmed.subject, data: confirmed(orderId), deliveryCount: 1 };
    const hooks: (() => void | Promise<void>)[] = [];

    // The test's own pool holds the transaction; the service's one connection stays free, so an
    // effect that escaped the transaction would commit on it and show below.
    const failure = await inv.db
      .transaction(async (trx) => {
        await applyOrderEvent(inv.running.deps, message, trx, { afterCommit: (work) => void hooks.push(work) });
        await trx('inbox').insert({ consumer: 'inventory-order-events', event_id: 'not-an-event-id', subject: message.subject });
      })
      .then(
        () => undefined,
        (error: Error) => error,
      );

    expect(failure?.message, 'the inbox insert fails').to.match(/invalid input syntax for type uuid/);
    expect((await inv.api.getReservation({ orderId })).reservation!.status).to.equal(ReservationStatus.RESERVATION_STATUS_RESERVED);
    expect(await stockOf(inv.api, product.id)).to.deep.equal(stockBefore);
    expect(await inv.db('stock_movements').where({ reference: orderId }).pluck('kind')).to.deep.equal(['RESERVE']);
    expect(await inv.db('outbox').where({ subject: 'inventory.reservation.committed' }).count({ n: '*' }).first()).to.deep.equal({
      n: 0,
    });
    // Waking the relay is asked of the consumer, which runs it only after a commit.
    expect(hooks).to.have.length(1);
  });

  it('settles published orders with DB_POOL_MAX=1 and wakes the relay for their events', async () => {
    const product = await createTestProduct(inv.api, { initialStock: 10 });
    const toCommit = await reservedOrder(product.id);
    const toRelease = await reservedOrder(product.id);
    await inv.running.runtime.ready;
    // The relay has published what there was and waits out its minute: only a wake publishes more.
    await eventually('the reservations published', async () => {
      const unpublished = await inv.db('outbox').whereNull('published_at').count({ n: '*' }).first();
      return Number(unpublished?.n) === 0 || `unpublished: ${JSON.stringify(unpublished)}`;
    });
    const js = nc.jetstream();
    await js.publish(ORDER_EVENTS.confirmed.subject, confirmed(toCommit), { msgID: uuidv7() });
    await js.publish(ORDER_EVENTS.cancelled.subject, cancelled(toRelease), { msgID: uuidv7() });

    await eventually(
      'both reservations settled and their events published',
      async () => {
        const rows = await inv.db('reservations').whereIn('order_id', [toCommit, toRelease]).select('order_id', 'status');
        const status = Object.fromEntries(rows.map((r: { order_id: string; status: string }) => [r.order_id, r.status]));
        const unpublished = await inv
          .db('outbox')
          .whereIn('subject', ['inventory.reservation.committed', 'inventory.reservation.released'])
          .whereNull('published_at')
          .count({ n: '*' })
          .first();
        const seen = `commit: ${status[toCommit]}, release: ${status[toRelease]}, unpublished: ${JSON.stringify(unpublished)}`;
        return status[toCommit] === 'COMMITTED' && status[toRelease] === 'RELEASED' && Number(unpublished?.n) === 0 ? true : seen;
      },
      { timeoutMs: 15_000 },
    );
    expect(await stockOf(inv.api, product.id)).to.include({ available: 8, reserved: 0, sold: 2 });
    const published = await inv
      .db('outbox')
      .whereIn('subject', ['inventory.reservation.committed', 'inventory.reservation.released'])
      .pluck('subject');
    expect(published.sort()).to.deep.equal(['inventory.reservation.committed', 'inventory.reservation.released']);
  });
});
