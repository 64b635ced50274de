import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { OrderStatus } from '../../../libs/contracts/larder/order/v1/resources.js';
import { outcomeOf, tally } from '../../../libs/testing/grpc-errors.js';
import { metricValue, scrapeMetrics } from '../../../libs/testing/scrape.js';
import { createProduct, hasStatus, inventoryViolations, startSystem, stockOf, waitForOrder, type TestSystem } from './system.js';

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
    const order = await scrapeMetrics(system.orderMetricsPort);
    expect(metricValue(order, 'larder_checkouts_total')).to.be.at.least(3);
    expect(metricValue(order, 'larder_order_transitions_total', 'from="RESERVED"', 'to="CONFIRMED"')).to.be.at.least(2);
    expect(metricValue(order, 'larder_order_transitions_total', 'from="RESERVED"', 'to="CANCELLED"')).to.be.at.least(1);
    expect(metricValue(order, 'larder_rpc_total', 'method="/larder.order.v1.OrderService/CreateOrder"', 'code="OK"')).to.be.at.least(3);
    expect(metricValue(order, 'larder_consumer_processed', 'consumer="order-inventory-events"')).to.be.at.least(0);
    const inventory = await scrapeMetrics(system.inventoryMetricsPort);
    expect(metricValue(inventory, 'larder_reservations_total', 'outcome="reserved"')).to.be.at.least(3);
    // The order service's confirmations reached inventory as events too.
    const deadline = Date.now() + 10_000;
    let processed = 0;
    while (Date.now() < deadline && processed < 1) {
      processed = metricValue(
        await scrapeMetrics(system.inventoryMetricsPort),
        'larder_consumer_processed',
        'consumer="inventory-order-events"',
      );
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(processed).to.be.at.least(1);
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
    while (answered < 30) await new Promise((r) => setTimeout(r, 5));
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
