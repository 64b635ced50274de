import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { Knex } from 'knex';
import { OrderStatus } from '#libs/contracts/larder/order/v1/resources.js';
import { outcomeOf, tally } from '#test/support/grpc-errors.js';
import { eventually } from '#test/support/eventually.js';
import { findMetric, metricValue, scrapeMetrics } from '#test/support/scrape.js';
import { ORDER_EVENTS } from '#libs/events/catalog.js';
import { INVENTORY_SUBJECTS } from '../consumers/inventory-events.js';
import { createProduct, hasStatus, inventoryViolations, startSystem, stockOf, waitForOrder, type TestSystem } from './system.js';

/** The order events inventory acts on (the event catalog's): confirmed commits the reservation, cancelled releases it. */
const EVENTS_INVENTORY_CONSUMES = [ORDER_EVENTS.confirmed.subject, ORDER_EVENTS.cancelled.subject];

/**
 * Waits until a consumer has dealt with every one of `ids` and its processed gauge counts them
 * all. `recorded`: each applied event has its inbox row; `alreadyApplied`: each found its effect
 * in place (inventory's order events after the direct call settled the reservation), so none
 * has one.
 */
async function waitForConsumer(
  consumer: string,
  db: Knex,
  metricsPort: number,
  ids: string[],
  how: 'recorded' | 'alreadyApplied',
): Promise<void> {
  await eventually(`${consumer} to apply ${ids.length} events and count them`, async () => {
    const inbox: string[] = await db('inbox').where({ consumer }).pluck('event_id');
    const processed = findMetric(await scrapeMetrics(metricsPort), 'larder_consumer_processed_total', `consumer="${consumer}"`);
    const inInbox = ids.filter((id) => inbox.includes(id)).length;
    const done = how === 'recorded' ? inInbox === ids.length && processed === inbox.length : inInbox === 0 && processed === ids.length;
    return done ? true : `${how}: in the inbox ${inInbox} of ${ids.length}, gauge ${processed}, inbox ${inbox.length}`;
  });
}

describe('operating the services', function () {
  this.timeout(90_000);
  let system: TestSystem;
  before(async () => {
    system = await startSystem();
  });
  after(async () => system?.stop());

  it('export order metrics after traffic: checkouts by outcome, transitions, RPCs', async () => {
    const product = await createProduct(system, 5);
    const placed = await Promise.all(
      ['tok_ok', 'tok_ok', 'tok_decline'].map((token) =>
        system.orders.createOrder({
          customerId: randomUUID(),
          idempotencyKey: randomUUID(),
          paymentToken: token,
          items: [{ productId: product.id, quantity: 1 }],
        }),
      ),
    );
    for (const { order } of placed) {
      await waitForOrder(system, order!.id, hasStatus(OrderStatus.ORDER_STATUS_CONFIRMED, OrderStatus.ORDER_STATUS_CANCELLED));
    }
    // The system is fresh (this is its first test): every count is exact, and a missing metric throws.
    const order = await scrapeMetrics(system.orderMetricsPort);
    expect(metricValue(order, 'larder_checkouts_total')).to.equal(3);
    expect(metricValue(order, 'larder_order_transitions_total', 'from="RESERVED"', 'to="CONFIRMED"')).to.equal(2);
    expect(metricValue(order, 'larder_order_transitions_total', 'from="RESERVED"', 'to="CANCELLED"')).to.equal(1);
    expect(metricValue(order, 'larder_rpc_total', 'method="/larder.order.v1.OrderService/CreateOrder"', 'code="OK"')).to.equal(3);
    const inventory = await scrapeMetrics(system.inventoryMetricsPort);
    expect(metricValue(inventory, 'larder_reservations_total', 'outcome="reserved"')).to.equal(3);

    // Inventory's events reached the order service (the declined order's release at least), and its
    // consumer gauge counts exactly what its inbox holds.
    const wanted: string[] = await system.inventoryDb.db('outbox').whereIn('subject', INVENTORY_SUBJECTS).pluck('id');
    const released = await system.inventoryDb.db('outbox').where({ subject: 'inventory.reservation.released' }).pluck('id');
    expect(released).to.have.length(1);
    await waitForConsumer('order-inventory-events', system.orderDb.db, system.orderMetricsPort, wanted, 'recorded');
    // And the order service's confirmations and cancellation reached inventory's consumer, which
    // found each reservation already settled by the direct call: counted, nothing written.
    const orderEvents: string[] = await system.orderDb.db('outbox').whereIn('subject', EVENTS_INVENTORY_CONSUMES).pluck('id');
    expect(orderEvents).to.have.length(3);
    await waitForConsumer('inventory-order-events', system.inventoryDb.db, system.inventoryMetricsPort, orderEvents, 'alreadyApplied');
  });

  it('SIGTERM under load: every call either completes or never happened, and the process exits 0', async () => {
    const product = await createProduct(system, 1_000);
    const requests = Array.from({ length: 300 }, () => ({ customerId: randomUUID(), idempotencyKey: randomUUID() }));
    let answered = 0;
    const calls = requests.map((r, i) =>
      new Promise((resolve) => setTimeout(resolve, i)).then(() =>
        outcomeOf(
          system.orders
            .createOrder({ ...r, paymentToken: 'tok_ok', items: [{ productId: product.id, quantity: 1 }] })
            .finally(() => (answered += 1)),
        ),
      ),
    );
    await eventually('30 CreateOrder answers before the SIGTERM', () => answered >= 30 || `${answered} answered`, {
      intervalMs: 5,
      timeoutMs: 20_000,
    });
    const started = Date.now();
    const exit = await system.orderProcess.stop('SIGTERM');
    const stopMs = Date.now() - started;
    const outcomes = await Promise.all(calls);
    console.log(`      shutdown under load: exit ${exit} after ${stopMs} ms; outcomes ${JSON.stringify(tally(outcomes))}`);
    expect(exit).to.equal('0');
    expect(stopMs).to.be.below(10_000);
    // No lost answers: exactly the calls answered OK created an order.
    const created = await system.orderDb
      .db('orders')
      .whereIn(
        'idempotency_key',
        requests.map((r) => r.idempotencyKey),
      )
      .count<{ count: string }[]>('* as count');
    expect(Number(created[0]!.count)).to.equal(outcomes.filter((o) => o === 'OK').length);
    expect(outcomes.filter((o) => o !== 'OK' && o !== 'UNAVAILABLE' && o !== 'CANCELLED')).to.deep.equal([]);

    // Restarted, the saga finishes what the stopped process left.
    await system.orderProcess.start();
    const orders = await system.orderDb
      .db('orders')
      .whereIn(
        'idempotency_key',
        requests.map((r) => r.idempotencyKey),
      )
      .select('id');
    for (const { id } of orders) await waitForOrder(system, id, hasStatus(OrderStatus.ORDER_STATUS_CONFIRMED));
    expect(await stockOf(system, product.id)).to.include({ reserved: 0, sold: orders.length, available: 1_000 - orders.length });
    expect(await inventoryViolations(system)).to.deep.equal([]);
  });
});
