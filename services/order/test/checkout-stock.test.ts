import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { AdjustmentReason } from '#libs/contracts/larder/inventory/v1/resources.js';
import { OrderStatus, type Order } from '#libs/contracts/larder/order/v1/resources.js';
import { delay } from '#test/support/free-port.js';
import { runNpmScript } from '#test/support/scripts.js';
import { createProduct, hasStatus, inventoryViolations, startSystem, stockOf, waitForOrder, type TestSystem } from './system.js';
import { seededRandom } from '#test/support/seeded-random.js';

const S = OrderStatus;
const statusName = (status: OrderStatus) => OrderStatus[status];

/** Takes units out of stock (a write-off), so a cart filled while they were there is now short. */
async function writeOff(system: TestSystem, productId: string, units: number): Promise<void> {
  await system.inventory.adjustStock({
    productId,
    delta: -units,
    reason: AdjustmentReason.ADJUSTMENT_REASON_DAMAGED,
    idempotencyKey: `write-off-${randomUUID()}`,
  });
}

/** Polls every order until `settled` holds for all of them (bounded); returns the last snapshot. */
async function waitForAll(system: TestSystem, ids: string[], settled: (order: Order) => boolean, timeoutMs: number): Promise<Order[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const orders = await Promise.all(ids.map(async (id) => (await system.orders.getOrder({ id })).order!));
    if (orders.every(settled)) return orders;
    if (Date.now() > deadline) {
      const stuck = orders.filter((o) => !settled(o)).map((o) => `${o.id}=${statusName(o.status)}`);
      throw new Error(
        `${stuck.length} order(s) did not settle within ${timeoutMs} ms: ${stuck.slice(0, 5).join(', ')} (logs: ${system.logDir})`,
      );
    }
    await delay(100);
  }
}

/**
 * What Checkout's inline step made of the order. Checkout may also answer PENDING when the saga worker
 * claimed the new order before the inline step could (documented): then wait for the worker's step.
 */
async function afterFirstStep(system: TestSystem, order: Order): Promise<Order> {
  expect(statusName(order.status)).to.be.oneOf(['ORDER_STATUS_PENDING', 'ORDER_STATUS_AWAITING_STOCK', 'ORDER_STATUS_RESERVED']);
  if (order.status !== S.ORDER_STATUS_PENDING) return order;
  return waitForOrder(system, order.id, (o) => o.status !== S.ORDER_STATUS_PENDING, 10_000);
}

function countBy(orders: Order[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of orders) counts[statusName(o.status)] = (counts[statusName(o.status)] ?? 0) + 1;
  return counts;
}

/** Runs the real `npm run -s check:invariants` against the system's inventory database. */
async function checkInvariantsCli(system: TestSystem): Promise<{ code: number | null; output: string }> {
  const run = await runNpmScript('check:invariants', [], { env: { INVENTORY_DATABASE_URL: system.inventoryDb.url } });
  return { code: run.code, output: run.stdout + run.stderr };
}

describe('checkout waiting for stock: woken by events, not by the clock', function () {
  this.timeout(60_000);
  let system: TestSystem;
  before(async () => {
    system = await startSystem({
      orderEnv: {
        // A retry is 30-60 s away: only an inventory event can wake an order within the test.
        RETRY_BASE_MS: '60000',
        RETRY_MAX_MS: '60000',
        RETRY_MAX_ATTEMPTS: '5',
        // Non-test tokens decline after 2 s, so an order holds its stock long enough for another to wait on it.
        PAYMENT_DECLINE_RATE: '1',
        PAYMENT_LATENCY_MS: '2000',
        PAYMENT_TIMEOUT_MS: '10000',
      },
    });
  });
  after(async () => system?.stop());
  afterEach(async () => expect(await inventoryViolations(system)).to.deep.equal([]));

  it('parks a short order in AWAITING_STOCK and confirms it as soon as a restock arrives', async () => {
    const product = await createProduct(system, 5);
    const customerId = randomUUID();
    await system.carts.addCartItem({ customerId, productId: product.id, quantity: 5 });
    await writeOff(system, product.id, 3); // 2 left, the cart wants 5

    const order = await afterFirstStep(
      system,
      (await system.orders.checkout({ customerId, idempotencyKey: 'short', paymentToken: 'tok_ok' })).order!,
    );
    expect(statusName(order.status)).to.equal('ORDER_STATUS_AWAITING_STOCK');
    expect(order.attempts).to.equal(1);
    expect(order.lastError).to.include(product.id);
    expect(order.nextAttemptTime!.getTime() - Date.now()).to.be.greaterThan(20_000);
    expect(await stockOf(system, product.id)).to.include({ available: 2, reserved: 0, sold: 0 });

    const started = Date.now();
    await system.inventory.adjustStock({
      productId: product.id,
      delta: 10,
      reason: AdjustmentReason.ADJUSTMENT_REASON_RESTOCK,
      idempotencyKey: `restock-${product.id}`,
    });
    const confirmed = await waitForOrder(system, order.id, hasStatus(S.ORDER_STATUS_CONFIRMED, S.ORDER_STATUS_FAILED), 15_000);
    const tookMs = Date.now() - started;
    console.log(`      restock → CONFIRMED in ${tookMs} ms (backoff would have been ≥ 30 s)`);
    expect(statusName(confirmed.status)).to.equal('ORDER_STATUS_CONFIRMED');
    expect(tookMs).to.be.lessThan(10_000);
    expect(await stockOf(system, product.id)).to.include({ available: 7, reserved: 0, sold: 5 });
  });

  it('wakes a waiting order when another order releases its reservation (payment declined)', async () => {
    const product = await createProduct(system, 2);
    const [holder, waiter] = [randomUUID(), randomUUID()];
    // Carts first: AddCartItem checks availability softly, and the holder is about to take everything.
    await system.carts.addCartItem({ customerId: holder, productId: product.id, quantity: 2 });
    await system.carts.addCartItem({ customerId: waiter, productId: product.id, quantity: 1 });

    const held = await afterFirstStep(
      system,
      (await system.orders.checkout({ customerId: holder, idempotencyKey: 'holder', paymentToken: 'tok_slow_decline' })).order!,
    );
    expect(statusName(held.status)).to.equal('ORDER_STATUS_RESERVED');
    const waiting = await afterFirstStep(
      system,
      (await system.orders.checkout({ customerId: waiter, idempotencyKey: 'waiter', paymentToken: 'tok_ok' })).order!,
    );
    expect(statusName(waiting.status)).to.equal('ORDER_STATUS_AWAITING_STOCK');
    expect(waiting.lastError).to.include(product.id);
    const started = Date.now();

    const cancelled = await waitForOrder(system, held.id, hasStatus(S.ORDER_STATUS_CANCELLED), 15_000);
    expect(cancelled.cancelReason).to.equal('payment declined');
    const confirmed = await waitForOrder(system, waiting.id, hasStatus(S.ORDER_STATUS_CONFIRMED, S.ORDER_STATUS_FAILED), 15_000);
    const tookMs = Date.now() - started;
    console.log(`      release → waiting order CONFIRMED ${tookMs} ms after its checkout (incl. 2 s decline latency)`);
    expect(statusName(confirmed.status)).to.equal('ORDER_STATUS_CONFIRMED');
    expect(tookMs).to.be.lessThan(10_000);
    expect(await stockOf(system, product.id)).to.include({ available: 1, reserved: 0, sold: 1 });
  });
});

describe('checkout waiting for stock that never comes', function () {
  this.timeout(60_000);
  let system: TestSystem;
  before(async () => {
    system = await startSystem({ orderEnv: { RETRY_BASE_MS: '50', RETRY_MAX_MS: '100', RETRY_MAX_ATTEMPTS: '3' } });
  });
  after(async () => system?.stop());
  afterEach(async () => expect(await inventoryViolations(system)).to.deep.equal([]));

  it('ends FAILED after RETRY_MAX_ATTEMPTS, logs PENDING → AWAITING_STOCK → FAILED, and leaves the stock alone', async () => {
    const product = await createProduct(system, 3);
    const customerId = randomUUID();
    await system.carts.addCartItem({ customerId, productId: product.id, quantity: 3 });
    await writeOff(system, product.id, 2); // 1 left, the cart wants 3

    const order = await afterFirstStep(
      system,
      (await system.orders.checkout({ customerId, idempotencyKey: 'never', paymentToken: 'tok_ok' })).order!,
    );
    expect(statusName(order.status)).to.equal('ORDER_STATUS_AWAITING_STOCK');
    expect(order.attempts).to.equal(1);

    const failed = await waitForOrder(
      system,
      order.id,
      hasStatus(S.ORDER_STATUS_FAILED, S.ORDER_STATUS_CONFIRMED, S.ORDER_STATUS_CANCELLED),
      15_000,
    );
    expect(statusName(failed.status)).to.equal('ORDER_STATUS_FAILED');
    expect(failed.attempts).to.equal(3);
    expect(failed.cancelReason).to.match(/3 attempts/);
    expect(failed.lastError).to.include(product.id);

    const { events } = await system.orders.listOrderEvents({ orderId: order.id });
    expect(events.map((e) => `${statusName(e.fromStatus)} → ${statusName(e.toStatus)}`)).to.deep.equal([
      'ORDER_STATUS_UNSPECIFIED → ORDER_STATUS_PENDING',
      'ORDER_STATUS_PENDING → ORDER_STATUS_AWAITING_STOCK',
      'ORDER_STATUS_AWAITING_STOCK → ORDER_STATUS_FAILED',
    ]);
    expect(events[2]!.reason).to.match(/3 attempts/);
    expect(await stockOf(system, product.id)).to.include({ available: 1, reserved: 0, sold: 0 });
  });
});

describe('checkout under contention (both services as processes)', function () {
  this.timeout(60_000);
  let system: TestSystem;
  before(async () => {
    // Test defaults (100 ms base, 1 s cap) but 3 attempts, so the flash sale's 90 losers run out of attempts quickly.
    system = await startSystem({ orderEnv: { RETRY_MAX_ATTEMPTS: '3' } });
  });
  after(async () => system?.stop());

  it('flash sale: 100 concurrent checkouts for 10 units confirm exactly 10 and never oversell', async () => {
    const STOCK = 10;
    const CUSTOMERS = 100;
    const product = await createProduct(system, STOCK);
    const customers = Array.from({ length: CUSTOMERS }, () => randomUUID());
    // Every cart gets its unit while all 10 are still there (AddCartItem's check is soft, not a hold).
    await Promise.all(customers.map((customerId) => system.carts.addCartItem({ customerId, productId: product.id, quantity: 1 })));

    // Watch the stock the whole time: never negative, always conserved.
    const samples: string[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const s = await stockOf(system, product.id);
        if (s.available < 0 || s.reserved < 0 || s.sold < 0 || s.available + s.reserved + s.sold !== STOCK)
          samples.push(`available ${s.available} reserved ${s.reserved} sold ${s.sold}`);
        await delay(20);
      }
    })();

    const burstStarted = Date.now();
    const placed = await Promise.allSettled(
      customers.map(
        async (customerId) =>
          (await system.orders.checkout({ customerId, idempotencyKey: `flash-${customerId}`, paymentToken: 'tok_ok' })).order!,
      ),
    );
    const burstMs = Date.now() - burstStarted;
    const refused = placed.filter((p) => p.status === 'rejected').map((p) => String((p as PromiseRejectedResult).reason));
    expect(refused, 'Checkout calls that failed').to.deep.equal([]);
    const ids = placed.map((p) => (p as PromiseFulfilledResult<Order>).value.id);
    const atCheckout = countBy(placed.map((p) => (p as PromiseFulfilledResult<Order>).value));

    const settled = await waitForAll(
      system,
      ids,
      hasStatus(S.ORDER_STATUS_CONFIRMED, S.ORDER_STATUS_AWAITING_STOCK, S.ORDER_STATUS_FAILED),
      30_000,
    );
    const settledMs = Date.now() - burstStarted;
    sampling = false;
    await sampler;
    const counts = countBy(settled);
    console.log(
      `      flash sale: ${CUSTOMERS} checkouts for ${STOCK} units; burst ${burstMs} ms; settled ${settledMs} ms after burst start`,
    );
    console.log(`      statuses returned by Checkout: ${JSON.stringify(atCheckout)}`);
    console.log(`      statuses once settled:         ${JSON.stringify(counts)}`);

    const confirmed = settled.filter(hasStatus(S.ORDER_STATUS_CONFIRMED));
    const losers = settled.filter(hasStatus(S.ORDER_STATUS_AWAITING_STOCK, S.ORDER_STATUS_FAILED));
    expect(confirmed.length).to.equal(STOCK);
    expect(losers.length).to.equal(CUSTOMERS - STOCK);
    expect(new Set(confirmed.map((o) => o.customerId)).size).to.equal(STOCK);
    expect(samples, 'stock samples breaking available+reserved+sold = 10 or going negative').to.deep.equal([]);
    const stock = await stockOf(system, product.id);
    console.log(`      stock after: available ${stock.available} reserved ${stock.reserved} sold ${stock.sold}`);
    expect(stock).to.include({ available: 0, reserved: 0, sold: STOCK });
    expect(await inventoryViolations(system)).to.deep.equal([]);

    const cli = await checkInvariantsCli(system);
    expect(cli.output).to.include('invariants hold');
    expect(cli.code, cli.output).to.equal(0);

    // Every loser runs out of its 3 attempts soon after, and no unit moves because of it.
    const ended = await waitForAll(system, ids, hasStatus(S.ORDER_STATUS_CONFIRMED, S.ORDER_STATUS_FAILED), 30_000);
    const failed = ended.filter(hasStatus(S.ORDER_STATUS_FAILED));
    console.log(`      all losers FAILED ${Date.now() - burstStarted} ms after burst start: ${JSON.stringify(countBy(ended))}`);
    expect(failed.length).to.equal(CUSTOMERS - STOCK);
    expect([...new Set(failed.map((o) => o.attempts))]).to.deep.equal([3]);
    expect(await stockOf(system, product.id)).to.include({ available: 0, reserved: 0, sold: STOCK });
  });

  it('mixed load: random carts over 3 products, ok and declined payments, conserve every unit', async () => {
    const seed = Number(process.env.LARDER_TEST_SEED ?? Date.now() % 2 ** 31);
    const random = seededRandom(seed);
    const UNITS = 5;
    const products = await Promise.all([createProduct(system, UNITS), createProduct(system, UNITS), createProduct(system, UNITS)]);
    const customers = Array.from({ length: 30 }, () => {
      const shuffled = [...products].sort(() => random() - 0.5);
      const lines = shuffled.slice(0, 1 + Math.floor(random() * 3)).map((p) => ({ productId: p.id, quantity: 1 }));
      return { customerId: randomUUID(), lines, token: random() < 0.4 ? 'tok_decline' : 'tok_ok' };
    });
    for (const c of customers) {
      await Promise.all(c.lines.map((line) => system.carts.addCartItem({ customerId: c.customerId, ...line })));
    }

    const orders = await Promise.all(
      customers.map(
        async (c) => (await system.orders.checkout({ customerId: c.customerId, idempotencyKey: 'mixed', paymentToken: c.token })).order!,
      ),
    );
    const settled = await waitForAll(
      system,
      orders.map((o) => o.id),
      hasStatus(S.ORDER_STATUS_CONFIRMED, S.ORDER_STATUS_CANCELLED, S.ORDER_STATUS_FAILED),
      30_000,
    );
    console.log(`      mixed load (seed ${seed}): ${JSON.stringify(countBy(settled))}`);

    // Each order's outcome follows from its history: one that never held its stock ran out of attempts
    // (and names the product that was short); one that did is settled by its payment token.
    const tokenOf = new Map<string, string>(customers.map((c) => [c.customerId, c.token]));
    for (const order of settled) {
      const token = tokenOf.get(order.customerId);
      const { events } = await system.orders.listOrderEvents({ orderId: order.id });
      const reserved = events.some((e) => e.toStatus === S.ORDER_STATUS_RESERVED);
      const expected = !reserved ? 'ORDER_STATUS_FAILED' : token === 'tok_decline' ? 'ORDER_STATUS_CANCELLED' : 'ORDER_STATUS_CONFIRMED';
      expect(statusName(order.status), `${order.id} (${token}, ${reserved ? 'reserved' : 'never reserved'})`).to.equal(expected);
      const namesItsProduct = order.items.some((i) => order.lastError.includes(i.productId));
      if (!reserved) expect(namesItsProduct, `${order.id} failed with "${order.lastError}"`).to.equal(true);
      if (expected === 'ORDER_STATUS_CANCELLED') expect(order.cancelReason).to.equal('payment declined');
    }
    for (const product of products) {
      const soldByOrders = settled
        .filter(hasStatus(S.ORDER_STATUS_CONFIRMED))
        .flatMap((o) => o.items)
        .filter((i) => i.productId === product.id)
        .reduce((sum, i) => sum + i.quantity, 0);
      const stock = await stockOf(system, product.id);
      expect({ product: product.id, ...stock }).to.include({ reserved: 0, sold: soldByOrders });
      expect(stock.available + stock.sold, `product ${product.id}`).to.equal(UNITS);
    }
    expect(await inventoryViolations(system)).to.deep.equal([]);
  });
});
