import { randomUUID } from 'node:crypto';
import { status as Code } from '@grpc/grpc-js';
import { expect } from 'chai';
import { OrderStatus, type ShippingAddress } from '#libs/contracts/larder/order/v1/resources.js';
import { expectGrpcError } from '#test/support/grpc-errors.js';
import { claimOrderKey } from '../data/placed-order.js';
import { insertOrderItems } from '../data/orders.js';
import type { OrderStatus as Status } from '../domain/types.js';
import { startSystem, type TestSystem } from './system.js';
import { address } from './validation/harness.js';

/**
 * UpdateOrder through the real gRPC API: once an order has shipped or ended its
 * address is frozen, whatever else the request asks, and a refused request
 * leaves the order, its log and the outbox exactly as they were. (The whole
 * matrix of statuses × requests is test/unit/update-order-rule.test.ts.)
 */

const S = OrderStatus;
const ADDRESS = address();
const NEW_ADDRESS = address({ line1: 'Prinsengracht 2' });

describe('UpdateOrder: the address of a shipped or ended order', function () {
  this.timeout(60_000);
  let system: TestSystem;
  before(async () => {
    system = await startSystem();
  });
  after(async () => system?.stop());

  /**
   * An order in `status` with ADDRESS, written straight into the order database
   * (the state is made, not waited for) and due never, so no saga step touches it.
   */
  async function orderIn(status: Status): Promise<string> {
    const id = randomUUID();
    const now = new Date();
    await system.orderDb.db.transaction(async (trx) => {
      const order = {
        id,
        customerId: randomUUID(),
        idempotencyKey: randomUUID(),
        requestHash: 'made',
        paymentToken: 'tok_ok',
        shippingAddress: ADDRESS,
      };
      await claimOrderKey(trx, order, now, now);
      await insertOrderItems(trx, id, [{ productId: randomUUID(), quantity: 1 }]);
      await trx('orders').update({ status, next_attempt_at: null }).where({ id });
    });
    return id;
  }

  /** What UpdateOrder could have changed: the order as GetOrder shows it, its log, and the outbox. */
  async function stateOf(id: string) {
    const { order } = await system.orders.getOrder({ id });
    const { events } = await system.orders.listOrderEvents({ orderId: id });
    const outbox = Number((await system.orderDb.db('outbox').count({ n: '*' }).first())!.n);
    return { order, events, outbox };
  }

  async function expectRefused(id: string, change: { status?: OrderStatus; shippingAddress?: ShippingAddress }, reason: string) {
    const before = await stateOf(id);
    const updateMask = [...(change.status ? ['status'] : []), ...(change.shippingAddress ? ['shipping_address'] : [])];
    const refused = await expectGrpcError(system.orders.updateOrder({ order: { id, ...change }, updateMask }), Code.FAILED_PRECONDITION);
    expect(refused.reason, refused.error.details).to.equal(reason);
    expect(await stateOf(id)).to.deep.equal(before);
  }

  it('SHIPPED: {status DELIVERED, address} and {status SHIPPED, address} are refused (ORDER_SHIPPED) and change nothing', async () => {
    const id = await orderIn('SHIPPED');
    await expectRefused(id, { status: S.ORDER_STATUS_DELIVERED, shippingAddress: NEW_ADDRESS }, 'ORDER_SHIPPED');
    await expectRefused(id, { status: S.ORDER_STATUS_SHIPPED, shippingAddress: NEW_ADDRESS }, 'ORDER_SHIPPED');
    await expectRefused(id, { shippingAddress: NEW_ADDRESS }, 'ORDER_SHIPPED');
    // Delivering it without touching the address still works.
    const { order } = await system.orders.updateOrder({ order: { id, status: S.ORDER_STATUS_DELIVERED }, updateMask: ['status'] });
    expect([OrderStatus[order!.status], order!.shippingAddress]).to.deep.equal(['ORDER_STATUS_DELIVERED', ADDRESS]);
  });

  it('DELIVERED: {status DELIVERED, address} is refused (ORDER_SHIPPED) and changes nothing', async () => {
    const id = await orderIn('DELIVERED');
    await expectRefused(id, { status: S.ORDER_STATUS_DELIVERED, shippingAddress: NEW_ADDRESS }, 'ORDER_SHIPPED');
  });

  it('CANCELLED and FAILED: an address change is refused (ORDER_ENDED) and changes nothing', async () => {
    for (const status of ['CANCELLED', 'FAILED'] as const) {
      await expectRefused(await orderIn(status), { shippingAddress: NEW_ADDRESS }, 'ORDER_ENDED');
    }
  });

  it('CONFIRMED: ships with a new address given in the same request', async () => {
    const id = await orderIn('CONFIRMED');
    const { order } = await system.orders.updateOrder({
      order: { id, status: S.ORDER_STATUS_SHIPPED, shippingAddress: NEW_ADDRESS },
      updateMask: ['status', 'shipping_address'],
    });
    expect([OrderStatus[order!.status], order!.shippingAddress]).to.deep.equal(['ORDER_STATUS_SHIPPED', NEW_ADDRESS]);
  });
});
