import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { OrderStatus, PaymentStatus } from '#libs/contracts/larder/order/v1/resources.js';
import { createProduct, hasStatus, inventoryViolations, startSystem, stockOf, waitForOrder, type TestSystem } from './system.js';

describe('checkout (both services as processes)', function () {
  this.timeout(60_000);
  let system: TestSystem;
  before(async () => {
    system = await startSystem();
  });
  after(async () => system?.stop());
  afterEach(async () => expect(await inventoryViolations(system)).to.deep.equal([]));

  it('turns a cart into a CONFIRMED order with its stock committed', async () => {
    const product = await createProduct(system, 10, 189);
    const customerId = randomUUID();
    await system.carts.addCartItem({ customerId, productId: product.id, quantity: 3 });
    const { order } = await system.orders.checkout({ customerId, idempotencyKey: 'first', paymentToken: 'tok_ok' });
    expect(order!.total).to.deep.equal({ currencyCode: 'EUR', minorUnits: 567 });
    expect((await system.carts.getCart({ customerId })).cart!.items).to.deep.equal([]);
    const confirmed = await waitForOrder(system, order!.id, hasStatus(OrderStatus.ORDER_STATUS_CONFIRMED));
    expect(confirmed.paymentStatus).to.equal(PaymentStatus.PAYMENT_STATUS_CAPTURED);
    expect(await stockOf(system, product.id)).to.include({ available: 7, reserved: 0, sold: 3 });
  });

  it('cancels on tok_decline and puts the stock back', async () => {
    const product = await createProduct(system, 10);
    const customerId = randomUUID();
    await system.carts.addCartItem({ customerId, productId: product.id, quantity: 2 });
    const { order } = await system.orders.checkout({ customerId, idempotencyKey: 'declined', paymentToken: 'tok_decline' });
    const cancelled = await waitForOrder(system, order!.id, hasStatus(OrderStatus.ORDER_STATUS_CANCELLED));
    expect(cancelled.cancelReason).to.equal('payment declined');
    expect(await stockOf(system, product.id)).to.include({ available: 10, reserved: 0, sold: 0 });
  });
});
