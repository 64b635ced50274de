import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { OrderStatus } from '#libs/contracts/larder/order/v1/resources.js';
import { runScript } from '#test/support/scripts.js';
import {
  createProduct,
  hasStatus,
  inventoryAddressOf,
  reconcileSystem,
  startSystem,
  stockOf,
  waitForOrder,
  type TestSystem,
} from './system.js';

const S = OrderStatus;

/** npm run reconcile on a real system: clean after convergence, then each side corrupted on purpose. */
describe('npm run reconcile (both services as processes)', function () {
  this.timeout(120_000);
  let system: TestSystem;
  before(async () => {
    system = await startSystem();
  });
  after(async () => system?.stop());

  const place = async (productId: string, quantity: number, token = 'tok_ok') => {
    const { order } = await system.orders.createOrder({
      customerId: randomUUID(),
      idempotencyKey: randomUUID(),
      paymentToken: token,
      items: [{ productId, quantity }],
    });
    return order!.id;
  };
  const byOrder = (disagreements: { orderId: string | null; reservationId: string | null; repair: { action: string } }[]) =>
    Object.fromEntries(disagreements.map((d) => [d.orderId ?? d.reservationId, d.repair.action]));

  it('is clean after orders converge, reports each corrupted pair, repairs what is safe through the API', async () => {
    const product = await createProduct(system, 50);
    const [sold, toCancel, unpaid, gone, refunded, declined] = [
      await place(product.id, 2),
      await place(product.id, 3),
      await place(product.id, 1),
      await place(product.id, 1),
      await place(product.id, 4),
      await place(product.id, 1, 'tok_decline'),
    ];
    const failed = await place(randomUUID(), 1);
    for (const id of [sold, toCancel, unpaid, gone, refunded]) await waitForOrder(system, id, hasStatus(S.ORDER_STATUS_CONFIRMED));
    await waitForOrder(system, declined, hasStatus(S.ORDER_STATUS_CANCELLED));
    await waitForOrder(system, failed, hasStatus(S.ORDER_STATUS_FAILED));
    // A confirmed order cancelled the regular way: its reservation stays COMMITTED, its units are restocked.
    await system.orders.cancelOrder({ id: refunded, reason: 'test' });
    await waitForOrder(system, refunded, hasStatus(S.ORDER_STATUS_CANCELLED));

    const clean = await reconcileSystem(system);
    expect(clean.disagreements).to.deep.equal([]);
    expect(clean.orders).to.equal(7);
    expect(clean.reservations, 'the FAILED order never got one').to.equal(6);
    const paged = await reconcileSystem(system, { pageSize: 2 });
    expect(paged).to.deep.include({ orders: 7, reservations: 6, disagreements: [] });

    // Corrupt both sides. 1: an order says CANCELLED while its stock stays sold and was never restocked.
    await system.orderDb.db('orders').update({ status: 'CANCELLED' }).where({ id: toCancel });
    // 2: inventory gave the stock of a paid order back.
    await system.inventoryDb.db('reservations').update({ status: 'RELEASED' }).where({ order_id: unpaid });
    // 3: a paid order's reservation deleted.
    await system.inventoryDb.db('reservation_items').delete().where({ order_id: gone });
    await system.inventoryDb.db('reservations').delete().where({ order_id: gone });
    // 4: a reservation that holds stock for no order at all (through the API, so its stock really is held).
    const orphan = randomUUID();
    await system.inventory.reserveStock({ orderId: orphan, items: [{ productId: product.id, quantity: 5 }], ttl: { seconds: 600 } });

    const found = await reconcileSystem(system, { pageSize: 3 });
    expect(byOrder(found.disagreements)).to.deep.equal({ [toCancel]: 'restock', [unpaid]: 'none', [gone]: 'none', [orphan]: 'release' });
    const cancelled = found.disagreements.find((d) => d.orderId === toCancel)!;
    expect(cancelled).to.deep.include({ reservationId: toCancel, orderStatus: 'CANCELLED', reservationStatus: 'COMMITTED' });
    expect(found.disagreements.find((d) => d.reservationId === orphan)).to.deep.include({ orderId: null, orderStatus: null });

    // Within a grace period every one of them would be work in flight (they all moved seconds ago).
    const lenient = await reconcileSystem(system, { graceSeconds: 600 });
    expect(lenient.disagreements).to.deep.equal([]);
    expect(lenient.inFlight).to.equal(4);

    // The operator's view: a line per disagreement naming both ids, both statuses and the fix; exit 1.
    const text = await runScript('reconcile.ts', ['--grace-seconds', '0'], {
      env: { INVENTORY_DATABASE_URL: system.inventoryDb.url, ORDER_DATABASE_URL: system.orderDb.url },
    });
    expect(text.code).to.equal(1);
    const line = text.stderr.split('\n').find((l) => l.includes(unpaid));
    expect(line).to.match(new RegExp(`^DISAGREEMENT order ${unpaid} CONFIRMED / reservation ${unpaid} RELEASED: .*needs a human`));
    expect(text.stderr).to.match(/4 disagreement\(s\)/);

    const before = await stockOf(system, product.id);
    const repaired = await reconcileSystem(system, { repairVia: { inventoryAddr: inventoryAddressOf(system) } });
    expect(repaired.repairs!.map((r) => `${r.action} ${r.orderId ?? r.reservationId} ${r.ok}`).sort()).to.deep.equal(
      [`release ${orphan} true`, `restock ${toCancel} true`].sort(),
    );
    expect(byOrder(repaired.disagreements), 'what needs a human stays reported').to.deep.equal({ [unpaid]: 'none', [gone]: 'none' });
    const after = await stockOf(system, product.id);
    expect(after.available - before.available, 'the orphan\u2019s 5 back and the cancelled order\u2019s 3 restocked').to.equal(8);
    expect(after.reserved).to.equal(before.reserved - 5);

    // A re-run finds the same two, and a second repair changes nothing more (the calls are idempotent).
    const again = await reconcileSystem(system, { repairVia: { inventoryAddr: inventoryAddressOf(system) } });
    expect(again.repairs).to.deep.equal([]);
    expect(byOrder(again.disagreements)).to.deep.equal({ [unpaid]: 'none', [gone]: 'none' });
    expect(await stockOf(system, product.id)).to.deep.equal(after);
  });
});
