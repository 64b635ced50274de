import { plainInventoryDeps } from '../plain-deps.js';
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { Knex } from 'knex';
import { OrderCancelled, OrderConfirmed } from '#libs/contracts/larder/order/v1/events.js';
import { Order } from '#libs/contracts/larder/order/v1/resources.js';
import { createTestDatabase, type TestDatabase } from '#test/support/test-database.js';
import type { InboxMessage } from '#libs/events/consumer.js';
import { applyOrderEvent, orderEventAlreadyApplied } from '../consumers/order-events.js';
import { findReservation } from '../data/reservations.js';
import type { InventoryDeps } from '../domain/deps.js';
import { reserveStock } from '../domain/reservations/reserve-stock.js';
import { settleReservation } from '../domain/reservations/settle-reservation.js';
import { inventoryMigrations } from '../migrations/index.js';

/** The inventory side of orders.confirmed / orders.cancelled, in-process on a real database. */
describe('order events at inventory (consumers/order-events.ts)', function () {
  this.timeout(30_000);
  let database: TestDatabase;
  let deps: InventoryDeps;
  let productId: string;

  before(async () => {
    database = await createTestDatabase('inventory_order_events', inventoryMigrations);
    deps = { ...plainInventoryDeps(database.db), defaultReservationTtlMs: 60_000 };
    productId = randomUUID();
    const now = new Date();
    await database.db('products').insert({
      id: productId,
      sku: `OE-${productId}`,
      name: 'Oats',
      price_minor: 250,
      currency_code: 'EUR',
      created_at: now,
      updated_at: now,
    });
    await database.db('stock_levels').insert({ product_id: productId, available: 100, updated_at: now });
  });
  after(async () => database?.drop());

  const message = (subject: 'orders.confirmed' | 'orders.cancelled', orderId: string): InboxMessage => ({
    id: randomUUID(),
    subject,
    data:
      subject === 'orders.confirmed'
        ? OrderConfirmed.encode({ metadata: undefined, order: Order.fromPartial({ id: orderId }) }).finish()
        : OrderCancelled.encode({
            metadata: undefined,
            order: Order.fromPartial({ id: orderId, cancelReason: 'customer asked' }),
          }).finish(),
    deliveryCount: 1,
  });

  async function reserved(quantity = 2): Promise<string> {
    const orderId = randomUUID();
    await reserveStock(deps, {}, { orderId, items: [{ productId, quantity }] });
    return orderId;
  }

  const statusOf = async (orderId: string) => (await findReservation(database.db, orderId))?.status;
  const apply = (msg: InboxMessage) =>
    database.db.transaction((trx: Knex.Transaction) => applyOrderEvent(deps, msg, trx, { afterCommit: () => undefined }));

  it('a RESERVED reservation is not yet applied; the event then commits or releases it', async () => {
    const toCommit = await reserved();
    const toRelease = await reserved();
    for (const [orderId, subject] of [
      [toCommit, 'orders.confirmed'],
      [toRelease, 'orders.cancelled'],
    ] as const) {
      expect(await orderEventAlreadyApplied(deps, message(subject, orderId)), subject).to.equal(false);
      await apply(message(subject, orderId));
    }
    expect(await statusOf(toCommit)).to.equal('COMMITTED');
    expect(await statusOf(toRelease)).to.equal('RELEASED');
    const released = await findReservation(database.db, toRelease);
    expect(released?.releaseReason).to.equal('customer asked');
  });

  it('a settled reservation (either way) and an unknown order have nothing left to apply', async () => {
    const committed = await reserved();
    await settleReservation(deps, {}, committed, 'COMMITTED');
    const released = await reserved();
    await settleReservation(deps, {}, released, 'RELEASED', 'gone');
    for (const subject of ['orders.confirmed', 'orders.cancelled'] as const) {
      expect(await orderEventAlreadyApplied(deps, message(subject, committed)), `${subject} of a committed one`).to.equal(true);
      expect(await orderEventAlreadyApplied(deps, message(subject, released)), `${subject} of a released one`).to.equal(true);
      expect(await orderEventAlreadyApplied(deps, message(subject, randomUUID())), `${subject} of an unknown one`).to.equal(true);
    }
    const other: InboxMessage = { ...message('orders.confirmed', committed), subject: 'orders.shipped' };
    expect(await orderEventAlreadyApplied(deps, other), 'a subject inventory does not act on').to.equal(true);
  });

  it('applying an event to a reservation settled the other way changes nothing and does not fail', async () => {
    const committed = await reserved();
    await settleReservation(deps, {}, committed, 'COMMITTED');
    const before = await database.db('stock_levels').where({ product_id: productId }).first();
    await apply(message('orders.cancelled', committed));
    expect(await statusOf(committed)).to.equal('COMMITTED');
    expect(await database.db('stock_levels').where({ product_id: productId }).first()).to.deep.equal(before);
  });
});
