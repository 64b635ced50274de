import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { OrderStatus } from '#libs/contracts/larder/order/v1/resources.js';
import {
  createProduct,
  hasStatus,
  inventoryViolations,
  reconcileSystem,
  repeatedTransitions,
  startSystem,
  stockOf,
  waitForOrder,
  type OrderApi,
  type TestSystem,
} from './system.js';

describe('several order replicas on one database', function () {
  this.timeout(90_000);
  let system: TestSystem;
  before(async () => {
    // A little payment latency so steps of different replicas overlap in time.
    system = await startSystem({ orderEnv: { PAYMENT_LATENCY_MS: '100', PAYMENT_TIMEOUT_MS: '2000', WORKER_CONCURRENCY: '4' } });
  });
  after(async () => system?.stop());

  it('never process one order twice: one charge and one log entry per transition, stock exact', async () => {
    const replicas: OrderApi[] = [system.orders, (await system.addOrderReplica()).orders, (await system.addOrderReplica()).orders];
    const products = [await createProduct(system, 100), await createProduct(system, 100)];
    const placed = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        replicas[i % replicas.length]!.createOrder({
          customerId: randomUUID(),
          idempotencyKey: randomUUID(),
          paymentToken: 'tok_card_with_latency',
          items: [{ productId: products[i % 2]!.id, quantity: 1 }],
        }),
      ),
    );
    for (const { order } of placed) await waitForOrder(system, order!.id, hasStatus(OrderStatus.ORDER_STATUS_CONFIRMED), 30_000);

    const ids = placed.map((p) => p.order!.id);
    const charges = await system.orderDb.db('simulated_charges').whereIn('order_id', ids).select('order_id', 'status');
    expect(charges).to.have.length(60);
    expect(charges.every((c) => c.status === 'captured')).to.equal(true);
    // At the gateway, not in the provider's books (which would hide a second charge): one charge per order.
    for (const id of ids) expect(system.paymentCalls(id), `gateway calls of order ${id}`).to.deep.equal(['charge:captured']);
    const pids = new Set(system.gatewayLog().map((e) => e.pid));
    expect(pids.size, 'charges were made by more than one replica').to.be.greaterThan(1);
    expect(await repeatedTransitions(system, ids), 'a status entered twice means two workers ran one step').to.deep.equal([]);
    for (const product of products) expect(await stockOf(system, product.id)).to.include({ available: 70, reserved: 0, sold: 30 });
    expect(await inventoryViolations(system)).to.deep.equal([]);
    expect(await reconcileSystem(system)).to.deep.include({ orders: 60, disagreements: [] });
  });
});
