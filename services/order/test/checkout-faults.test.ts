import { randomUUID } from 'node:crypto';
import { status as Code, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { OrderStatus, PaymentStatus, type Order } from '#libs/contracts/larder/order/v1/resources.js';
import { errorInfoOf } from '#libs/grpc/status.js';
import { delay } from '#test/support/free-port.js';
import { seededInts } from '#test/support/seeded-random.js';
import { eventually } from '#test/support/eventually.js';
import { holdTableLock, type HeldTableLock } from '#test/support/table-lock.js';
import { paymentViolations, unansweredCharges } from './gateway-log.js';
import {
  chargesOf,
  createProduct,
  hasStatus,
  inventoryViolations,
  reconcileSystem,
  startSystem,
  stockOf,
  waitForOrder,
  type TestSystem,
} from './system.js';

const S = OrderStatus;

/** A free metrics port per process, so concurrent runs never fight over the fixed defaults. */
const FREE_METRICS = { METRICS_PORT: '0' };

/** The gRPC status code a call rejected with (fails the test if it resolved). */
async function codeOf(call: Promise<unknown>): Promise<Code> {
  try {
    await call;
  } catch (error) {
    const code = (error as ServiceError).code;
    if (typeof code !== 'number') throw error;
    return code;
  }
  throw new Error('expected the call to fail, it succeeded');
}

/** CancelOrder either cancelled at once or accepted the request for a step in flight. */
function expectCancelAccepted(order: Order | undefined): void {
  expect(order, 'CancelOrder returned no order').to.not.equal(undefined);
  expect(order!.status === S.ORDER_STATUS_CANCELLED || order!.cancelRequested, `CancelOrder answered ${S[order!.status]}`).to.equal(true);
}

async function statusesOf(system: TestSystem, orderId: string): Promise<string[]> {
  const { events } = await system.orders.listOrderEvents({ orderId });
  return events.map((e) => S[e.toStatus]!.replace('ORDER_STATUS_', ''));
}

const ADDRESS = { recipient: 'A. Tester', line1: 'Damrak 1', city: 'Amsterdam', postalCode: '1012 LG', countryCode: 'NL' };

describe('checkout faults (both services as processes)', function () {
  this.timeout(90_000);

  describe('CancelOrder in every state', () => {
    let system: TestSystem;
    before(async () => {
      // A random-path token (tok_slow) takes 1.5 s to charge: the order sits in RESERVED meanwhile.
      system = await startSystem({
        inventoryEnv: FREE_METRICS,
        orderEnv: { ...FREE_METRICS, PAYMENT_LATENCY_MS: '1500', PAYMENT_TIMEOUT_MS: '4000' },
      });
    });
    after(async () => system?.stop());
    afterEach(async () => {
      if (system && !system.inventoryProcess.running) await system.inventoryProcess.start();
      expect(await inventoryViolations(system)).to.deep.equal([]);
      // Every order of the suite so far has settled: each must agree with its reservation.
      expect((await reconcileSystem(system)).disagreements).to.deep.equal([]);
    });

    it('AWAITING_STOCK → CANCELLED, nothing reserved; a repeated cancel is OK', async () => {
      const product = await createProduct(system, 1);
      const { order } = await system.orders.createOrder({
        customerId: randomUUID(),
        idempotencyKey: 'awaiting',
        paymentToken: 'tok_ok',
        items: [{ productId: product.id, quantity: 2 }],
      });
      await waitForOrder(system, order!.id, hasStatus(S.ORDER_STATUS_AWAITING_STOCK));
      const { order: answered } = await system.orders.cancelOrder({ id: order!.id, reason: 'changed my mind' });
      expectCancelAccepted(answered);
      const cancelled = await waitForOrder(system, order!.id, hasStatus(S.ORDER_STATUS_CANCELLED));
      expect(cancelled.cancelReason).to.equal('changed my mind');
      expect(cancelled.paymentStatus).to.equal(PaymentStatus.PAYMENT_STATUS_NOT_STARTED);
      expect(await stockOf(system, product.id)).to.include({ available: 1, reserved: 0, sold: 0 });
      expect(await chargesOf(system, order!.id)).to.deep.equal([]);
      expect(system.paymentCalls(order!.id)).to.deep.equal([]);

      // CANCELLED is idempotent: OK, still CANCELLED, nothing changes.
      const { order: again } = await system.orders.cancelOrder({ id: order!.id, reason: 'again' });
      expect(again!.status).to.equal(S.ORDER_STATUS_CANCELLED);
      expect(again!.cancelReason).to.equal('changed my mind');
      expect(await stockOf(system, product.id)).to.include({ available: 1, reserved: 0, sold: 0 });
    });

    it('RESERVED with the charge in flight → CANCELLED, stock back, the capture refunded once', async () => {
      const product = await createProduct(system, 10);
      const customerId = randomUUID();
      await system.carts.addCartItem({ customerId, productId: product.id, quantity: 2 });
      const { order } = await system.orders.checkout({ customerId, idempotencyKey: 'slow', paymentToken: 'tok_slow' });
      expect(order!.status).to.be.oneOf([S.ORDER_STATUS_RESERVED, S.ORDER_STATUS_PENDING]); // PENDING if the worker claimed it first
      // The worker marks the payment PENDING right before it calls the gateway (which then sleeps 1.5 s).
      const paying = await waitForOrder(system, order!.id, (o) => o.paymentStatus === PaymentStatus.PAYMENT_STATUS_PENDING, 5_000);
      expect(paying.status).to.equal(S.ORDER_STATUS_RESERVED);
      expect(await stockOf(system, product.id)).to.include({ available: 8, reserved: 2 });

      const { order: answered } = await system.orders.cancelOrder({ id: order!.id, reason: 'too slow' });
      expectCancelAccepted(answered);
      expect(answered!.cancelRequested, 'a step holds the order: the cancel is only requested').to.equal(true);

      const cancelled = await waitForOrder(system, order!.id, hasStatus(S.ORDER_STATUS_CANCELLED));
      expect(cancelled.cancelRequested).to.equal(false);
      // The charge was under way when the cancel came (PENDING is recorded right before the call):
      // it captures, then the saga refunds it, once, instead of confirming.
      expect(system.paymentCalls(order!.id)).to.deep.equal(['charge:captured', 'refund:refunded']);
      expect(await chargesOf(system, order!.id)).to.deep.equal([{ status: 'refunded' }]);
      expect(cancelled.paymentStatus).to.equal(PaymentStatus.PAYMENT_STATUS_REFUNDED);
      const stock = await stockOf(system, product.id);
      expect(stock).to.include({ available: 10, reserved: 0 });
      console.log(
        `      RESERVED-cancel: log ${(await statusesOf(system, order!.id)).join(' → ')}; gateway ${system.paymentCalls(order!.id).join(', ')}; stock ${JSON.stringify({ available: stock.available, reserved: stock.reserved, sold: stock.sold })}`,
      );
    });

    it('CONFIRMED → CANCELLED: payment refunded, sold units restocked', async () => {
      const product = await createProduct(system, 10, 300);
      const customerId = randomUUID();
      await system.carts.addCartItem({ customerId, productId: product.id, quantity: 3 });
      const { order } = await system.orders.checkout({ customerId, idempotencyKey: 'confirmed', paymentToken: 'tok_ok' });
      await waitForOrder(system, order!.id, hasStatus(S.ORDER_STATUS_CONFIRMED));
      expect(await stockOf(system, product.id)).to.include({ available: 7, reserved: 0, sold: 3 });

      const { order: answered } = await system.orders.cancelOrder({ id: order!.id, reason: 'no longer needed' });
      expectCancelAccepted(answered);
      const cancelled = await waitForOrder(system, order!.id, hasStatus(S.ORDER_STATUS_CANCELLED));
      expect(cancelled.paymentStatus).to.equal(PaymentStatus.PAYMENT_STATUS_REFUNDED);
      expect(await chargesOf(system, order!.id)).to.deep.equal([{ status: 'refunded' }]);
      expect(system.paymentCalls(order!.id)).to.deep.equal(['charge:captured', 'refund:refunded']);
      const stock = await stockOf(system, product.id);
      expect(stock.available, 'available back to the start').to.equal(10);
      expect(stock.reserved).to.equal(0);
      expect(await statusesOf(system, order!.id)).to.deep.equal(['PENDING', 'RESERVED', 'CONFIRMED', 'CANCELLED']);

      // Repeating the cancel must not restock twice.
      await system.orders.cancelOrder({ id: order!.id });
      expect((await stockOf(system, product.id)).available).to.equal(10);
      expect(system.paymentCalls(order!.id), 'a repeated cancel refunds nothing more').to.deep.equal([
        'charge:captured',
        'refund:refunded',
      ]);
    });

    it('PENDING (inventory down) → CANCELLED once inventory is back; another PENDING order is CONFIRMED', async () => {
      const cancelledProduct = await createProduct(system, 5);
      const keptProduct = await createProduct(system, 5);
      // The cart's soft stock check needs inventory: fill it first, check out once inventory is down.
      const first = randomUUID();
      await system.carts.addCartItem({ customerId: first, productId: cancelledProduct.id, quantity: 2 });
      await system.inventoryProcess.stop();

      const { order } = await system.orders.checkout({ customerId: first, idempotencyKey: 'pending-cancel', paymentToken: 'tok_ok' });
      expect(order!.status).to.equal(S.ORDER_STATUS_PENDING);
      const { order: kept } = await system.orders.createOrder({
        customerId: randomUUID(),
        idempotencyKey: 'pending-kept',
        paymentToken: 'tok_ok',
        items: [{ productId: keptProduct.id, quantity: 4 }],
      });
      expect(kept!.status).to.equal(S.ORDER_STATUS_PENDING);

      await delay(1_000);
      const still = (await system.orders.getOrder({ id: order!.id })).order!;
      expect(still.status, 'stays PENDING while inventory is down').to.equal(S.ORDER_STATUS_PENDING);
      expect(still.lastError).to.match(/inventory/i);

      const { order: answered } = await system.orders.cancelOrder({ id: order!.id, reason: 'gave up' });
      expectCancelAccepted(answered);
      await delay(300);
      expect((await system.orders.getOrder({ id: kept!.id })).order!.status).to.equal(S.ORDER_STATUS_PENDING);

      await system.inventoryProcess.start();
      const cancelled = await waitForOrder(system, order!.id, hasStatus(S.ORDER_STATUS_CANCELLED));
      expect(cancelled.cancelReason).to.equal('gave up');
      expect(await stockOf(system, cancelledProduct.id)).to.include({ available: 5, reserved: 0, sold: 0 });
      expect(await chargesOf(system, order!.id)).to.deep.equal([]);
      expect(system.paymentCalls(order!.id)).to.deep.equal([]);

      const confirmed = await waitForOrder(system, kept!.id, hasStatus(S.ORDER_STATUS_CONFIRMED));
      expect(confirmed.paymentStatus).to.equal(PaymentStatus.PAYMENT_STATUS_CAPTURED);
      expect(system.paymentCalls(kept!.id)).to.deep.equal(['charge:captured']);
      expect(await stockOf(system, keptProduct.id)).to.include({ available: 1, reserved: 0, sold: 4 });
    });

    it('SHIPPED, DELIVERED and FAILED orders refuse CancelOrder with FAILED_PRECONDITION', async () => {
      const product = await createProduct(system, 10);
      const { order } = await system.orders.createOrder({
        customerId: randomUUID(),
        idempotencyKey: 'ship',
        paymentToken: 'tok_ok',
        items: [{ productId: product.id, quantity: 1 }],
        shippingAddress: ADDRESS,
      });
      await waitForOrder(system, order!.id, hasStatus(S.ORDER_STATUS_CONFIRMED));
      await system.orders.updateOrder({ order: { id: order!.id, status: S.ORDER_STATUS_SHIPPED }, updateMask: ['status'] });
      const shippedRefusal = system.orders.cancelOrder({ id: order!.id });
      expect(await codeOf(shippedRefusal)).to.equal(Code.FAILED_PRECONDITION);
      expect(errorInfoOf((await shippedRefusal.catch((e: unknown) => e)) as ServiceError)?.reason).to.equal('ILLEGAL_ORDER_TRANSITION');

      await system.orders.updateOrder({ order: { id: order!.id, status: S.ORDER_STATUS_DELIVERED }, updateMask: ['status'] });
      expect(await codeOf(system.orders.cancelOrder({ id: order!.id }))).to.equal(Code.FAILED_PRECONDITION);
      const delivered = (await system.orders.getOrder({ id: order!.id })).order!;
      expect(delivered.status).to.equal(S.ORDER_STATUS_DELIVERED);
      expect(delivered.paymentStatus).to.equal(PaymentStatus.PAYMENT_STATUS_CAPTURED);
      expect(await stockOf(system, product.id)).to.include({ available: 9, reserved: 0, sold: 1 });

      // An order inventory refuses outright (unknown product) ends FAILED; cancelling it is refused too.
      const { order: doomed } = await system.orders.createOrder({
        customerId: randomUUID(),
        idempotencyKey: 'unknown-product',
        paymentToken: 'tok_ok',
        items: [{ productId: randomUUID(), quantity: 1 }],
      });
      await waitForOrder(system, doomed!.id, hasStatus(S.ORDER_STATUS_FAILED));
      expect(await codeOf(system.orders.cancelOrder({ id: doomed!.id }))).to.equal(Code.FAILED_PRECONDITION);
      expect(system.paymentCalls(doomed!.id), 'a FAILED order was never charged').to.deep.equal([]);
      expect(system.paymentCalls(order!.id), 'a delivered order was charged once').to.deep.equal(['charge:captured']);
    });
  });

  describe('a reservation expiring during a slow payment', () => {
    let system: TestSystem;
    before(async () => {
      system = await startSystem({
        orderEnv: {
          ...FREE_METRICS,
          ORDER_RESERVATION_TTL_MS: '1000',
          PAYMENT_LATENCY_MS: '2500',
          PAYMENT_TIMEOUT_MS: '5000',
          LEASE_MS: '15000',
        },
        inventoryEnv: { ...FREE_METRICS, SWEEP_INTERVAL_MS: '100' },
      });
    });
    after(async () => system?.stop());

    it('refunds the capture and cancels, with the stock back on the shelf', async () => {
      const product = await createProduct(system, 10);
      const customerId = randomUUID();
      await system.carts.addCartItem({ customerId, productId: product.id, quantity: 3 });
      const { order } = await system.orders.checkout({ customerId, idempotencyKey: 'expires', paymentToken: 'tok_slow' });
      expect(order!.status).to.be.oneOf([S.ORDER_STATUS_RESERVED, S.ORDER_STATUS_PENDING]); // PENDING if the worker claimed it first

      const ended = await waitForOrder(
        system,
        order!.id,
        hasStatus(S.ORDER_STATUS_CANCELLED, S.ORDER_STATUS_CONFIRMED, S.ORDER_STATUS_FAILED),
      );
      expect(S[ended.status], `order log: ${(await statusesOf(system, order!.id)).join(' → ')}`).to.equal('ORDER_STATUS_CANCELLED');
      expect(ended.cancelReason).to.match(/reservation.*expir/i);
      expect(ended.paymentStatus).to.equal(PaymentStatus.PAYMENT_STATUS_REFUNDED);
      expect(await chargesOf(system, order!.id)).to.deep.equal([{ status: 'refunded' }]);
      expect(system.paymentCalls(order!.id)).to.deep.equal(['charge:captured', 'refund:refunded']);
      expect(await statusesOf(system, order!.id)).to.deep.equal(['PENDING', 'RESERVED', 'CANCELLED']);
      expect(await stockOf(system, product.id)).to.include({ available: 10, reserved: 0, sold: 0 });
      expect(await inventoryViolations(system)).to.deep.equal([]);
      expect((await reconcileSystem(system)).disagreements).to.deep.equal([]);
    });
  });

  describe('the order service killed (SIGKILL) in the middle of checkouts', () => {
    let system: TestSystem;
    before(async () => {
      system = await startSystem({
        inventoryEnv: FREE_METRICS,
        // LEASE_MS outlasts the time the test holds charges back before the kill: a lapsed lease would
        // let the worker look the held charge up and charge again while it is still unanswered.
        orderEnv: { ...FREE_METRICS, PAYMENT_LATENCY_MS: '200', PAYMENT_TIMEOUT_MS: '2000', LEASE_MS: '5000' },
      });
    });
    after(async () => system?.stop());

    it('resumes every order after a restart: nothing oversold, doubled or charged twice', async () => {
      const INITIAL = 10;
      const products = [await createProduct(system, INITIAL), await createProduct(system, INITIAL), await createProduct(system, INITIAL)];
      // The order whose charge the kill cuts off: on a product of its own, so it has stock whatever the others sold.
      const gateProduct = await createProduct(system, INITIAL);
      const shelves = [...products, gateProduct];
      const rand = seededInts(42);

      interface Plan {
        customerId: string;
        key: string;
        viaCart: boolean;
        token: string;
        items: { productId: string; quantity: number }[];
      }
      const plans: Plan[] = [];
      for (let i = 0; i < 40; i += 1) {
        const first = rand(3);
        const items = [{ productId: products[first]!.id, quantity: 1 + rand(2) }];
        if (rand(3) === 0) items.push({ productId: products[(first + 1) % 3]!.id, quantity: 1 });
        plans.push({
          customerId: randomUUID(),
          key: `crash-${i}`,
          viaCart: i % 2 === 0,
          token: i % 5 === 4 ? 'tok_decline' : 'tok_pay',
          items,
        });
      }
      const BEFORE = 24; // answered before the kill
      const GATE = BEFORE; // placed while charges are held: its charge is in flight at the kill
      const AT_KILL = 8; // sent while orders are held, then the process killed under them
      plans.splice(GATE, 0, {
        customerId: randomUUID(),
        key: 'charge-in-flight',
        viaCart: false,
        token: 'tok_pay',
        items: [{ productId: gateProduct.id, quantity: 1 }],
      });
      // Warm both services up (first calls are slow), so the kill below lands mid-flight rather than before anything ran.
      const warm = await createProduct(system, 1);
      const { order: warmOrder } = await system.orders.createOrder({
        customerId: randomUUID(),
        idempotencyKey: 'warm-up',
        paymentToken: 'tok_pay',
        items: [{ productId: warm.id, quantity: 1 }],
      });
      await waitForOrder(system, warmOrder!.id, hasStatus(S.ORDER_STATUS_CONFIRMED));
      // Checkout orders need their carts filled first (before any stock is taken).
      for (const plan of plans.filter((p) => p.viaCart)) {
        for (const item of plan.items) await system.carts.addCartItem({ customerId: plan.customerId, ...item });
      }

      const place = (plan: Plan): Promise<Order> =>
        plan.viaCart
          ? system.orders
              .checkout({ customerId: plan.customerId, idempotencyKey: plan.key, paymentToken: plan.token }, { timeoutMs: 10_000 })
              .then((r) => r.order!)
          : system.orders
              .createOrder(
                { customerId: plan.customerId, idempotencyKey: plan.key, paymentToken: plan.token, items: plan.items },
                { timeoutMs: 10_000 },
              )
              .then((r) => r.order!);

      const outcomes: PromiseSettledResult<Order>[] = [];
      const answeredAt: number[] = [];
      const settle = async (i: number): Promise<void> => {
        try {
          outcomes[i] = { status: 'fulfilled', value: await place(plans[i]!) };
        } catch (reason) {
          outcomes[i] = { status: 'rejected', reason };
        } finally {
          answeredAt[i] = Date.now();
        }
      };
      // 1. Six waves of four calls, each wave answered before the next: these orders are in the saga at the kill.
      for (let wave = 0; wave < BEFORE / 4; wave += 1) await Promise.all([0, 1, 2, 3].map((k) => settle(wave * 4 + k)));
      const refusedEarly = outcomes.slice(0, BEFORE).filter((o) => o.status === 'rejected');
      expect(refusedEarly, 'calls made while the service was up').to.deep.equal([]);

      // 2. The kill must land mid-saga, on a charge that went out and did not come back. The test makes
      // that moment: it holds every charge from now on (the simulator's insert into simulated_charges
      // waits for its lock) and places an order that has stock, so its charge is called and cannot answer.
      // (Waiting for the saga to be caught charging fails whenever it has kept up with the callers.)
      const db0 = system.orderDb.db;
      const calls: Promise<void>[] = [];
      let killedAt = 0;
      let killed: string | undefined;
      const heldCharges = await holdTableLock(db0, 'simulated_charges', 'EXCLUSIVE');
      let heldOrders: HeldTableLock | undefined;
      try {
        calls.push(settle(GATE));
        await eventually('a charge called and held unanswered', () => unansweredCharges(system.gatewayLog()).length > 0 || 'none yet', {
          timeoutMs: 30_000,
          intervalMs: 20,
        });
        // 3. Hold every order write too, send a wave and kill the process under it: none of these calls
        // can be answered before the kill, so all of them are in flight at it.
        heldOrders = await holdTableLock(db0, 'orders', 'SHARE');
        calls.push(...Array.from({ length: AT_KILL }, (_, k) => settle(GATE + 1 + k)));
        killedAt = Date.now();
        killed = await system.orderProcess.stop('SIGKILL');
      } finally {
        // What the dead process's blocked statements do now is what a crash at this moment leaves: the held
        // charges complete (the provider took the money, nobody heard it), the orders' transactions roll back.
        await heldOrders?.release();
        await heldCharges.release();
      }
      await Promise.all(calls);
      // 4. The rest while it is dead.
      const REST = GATE + 1 + AT_KILL;
      await Promise.all(plans.slice(REST).map((_, k) => settle(REST + k)));

      const cutOff = unansweredCharges(system.gatewayLog());
      expect(cutOff.length, 'charges cut off by the kill (called, never answered)').to.be.greaterThan(0);
      const atKillRows: { status: string; payment_status: string; n: number }[] = await db0('orders')
        .whereNot('id', warmOrder!.id)
        .groupBy('status', 'payment_status')
        .select('status', 'payment_status', db0.raw('count(*)::int as n'));
      const inFlight = Array.from({ length: AT_KILL }, (_, k) => GATE + 1 + k).filter((i) => answeredAt[i]! >= killedAt);
      const outcomeCounts: Record<string, number> = {};
      outcomes.forEach((o) => {
        const label =
          o.status === 'fulfilled' ? `ok ${S[o.value.status]}` : `failed ${Code[(o.reason as ServiceError).code] ?? String(o.reason)}`;
        outcomeCounts[label] = (outcomeCounts[label] ?? 0) + 1;
      });
      console.log(
        `      SIGKILL (${killed}) with ${cutOff.length} charge(s) cut off and ${inFlight.length} of ${AT_KILL} calls in flight; ` +
          `orders (status/payment) at the kill: ${atKillRows.map((r) => `${r.status}/${r.payment_status} ${r.n}`).join(', ')}; outcomes:`,
        outcomeCounts,
      );
      expect(inFlight.length, 'calls still unanswered when the process was killed').to.be.greaterThan(0);
      expect(
        inFlight.some((i) => outcomes[i]!.status === 'rejected'),
        'a call in flight at the kill must have failed',
      ).to.equal(true);
      for (const i of inFlight.filter((j) => outcomes[j]!.status === 'rejected')) {
        expect(Code[((outcomes[i] as PromiseRejectedResult).reason as ServiceError).code], `call ${i} cut off by the kill`).to.equal(
          'UNAVAILABLE',
        );
      }
      for (const o of outcomes.slice(REST)) {
        expect(o.status === 'rejected' && Code[(o.reason as ServiceError).code], 'a call made while the service was dead').to.equal(
          'UNAVAILABLE',
        );
      }
      expect(inFlight.length, 'calls sent while orders were held: all unanswered at the kill').to.equal(AT_KILL);
      const firstOutcomes = outcomes;

      await system.orderProcess.start();

      // Retry every call with the same idempotency key (the ones that succeeded too: they must get the same order).
      const ids: string[] = [];
      let retried = 0;
      for (const [i, plan] of plans.entries()) {
        const first = firstOutcomes[i]!;
        let order: Order | undefined;
        for (let attempt = 0; !order; attempt += 1) {
          try {
            order = await place(plan);
          } catch (error) {
            if ((error as ServiceError).code !== Code.UNAVAILABLE || attempt >= 10) throw error;
            await delay(200);
          }
        }
        if (first.status === 'fulfilled') expect(order.id, `retry of ${plan.key} returned another order`).to.equal(first.value.id);
        else retried += 1;
        ids.push(order.id);
      }
      expect(new Set(ids).size, 'one order per idempotency key').to.equal(plans.length);

      // Wait (bounded) until every order is settled and no saga step is in flight, and the picture is stable.
      const db = system.orderDb.db;
      const SETTLED = new Set(['CONFIRMED', 'CANCELLED', 'FAILED', 'AWAITING_STOCK']);
      type Row = {
        id: string;
        status: string;
        version: number;
        lease_token: string | null;
        cancel_requested: boolean;
        payment_status: string;
      };
      const snapshot = async (): Promise<Row[]> =>
        db('orders')
          .select('id', 'status', 'version', 'lease_token', 'cancel_requested', 'payment_status')
          .whereNot('id', warmOrder!.id)
          .orderBy('id');
      const settled = (rows: Row[]) => rows.every((r) => SETTLED.has(r.status) && !r.lease_token && !r.cancel_requested);
      const deadline = Date.now() + 30_000;
      let rows: Row[] = await snapshot();
      let stocks: Awaited<ReturnType<typeof stockOf>>[];
      for (;;) {
        if (settled(rows)) {
          stocks = await Promise.all(shelves.map((p) => stockOf(system, p.id)));
          const after = await snapshot();
          if (JSON.stringify(after) === JSON.stringify(rows)) break;
          rows = after;
        } else {
          if (Date.now() > deadline) {
            const stuck = rows.filter((r) => !SETTLED.has(r.status) || r.lease_token || r.cancel_requested);
            throw new Error(`orders not settled after 30 s: ${JSON.stringify(stuck)} (logs: ${system.logDir})`);
          }
          await delay(200);
          rows = await snapshot();
        }
      }
      expect(rows.length, 'orders in the order DB').to.equal(plans.length);

      const finalCounts: Record<string, number> = {};
      rows.forEach((r) => (finalCounts[r.status] = (finalCounts[r.status] ?? 0) + 1));
      console.log(
        `      ${retried} calls retried; final statuses:`,
        finalCounts,
        'stock:',
        stocks.map((s) => ({ available: s.available, reserved: s.reserved, sold: s.sold })),
      );

      // Stock: sold == units of CONFIRMED orders; nothing held; nothing lost.
      const confirmedUnits: { product_id: string; units: string }[] = await db('order_items')
        .join('orders', 'orders.id', 'order_items.order_id')
        .where('orders.status', 'CONFIRMED')
        .groupBy('order_items.product_id')
        .select('order_items.product_id', db.raw('sum(order_items.quantity)::text as units'));
      for (const [i, product] of shelves.entries()) {
        const stock = stocks[i]!;
        const units = Number(confirmedUnits.find((u) => u.product_id === product.id)?.units ?? 0);
        expect(stock.sold, `sold of product ${i}`).to.equal(units);
        expect(stock.reserved, `reserved of product ${i}`).to.equal(0);
        expect(stock.available + stock.sold, `available + sold of product ${i}`).to.equal(INITIAL);
      }
      expect(await inventoryViolations(system)).to.deep.equal([]);

      // Payments: one capture per CONFIRMED order, none kept for the others.
      const charges: { order_id: string; status: string }[] = await db('simulated_charges').select('order_id', 'status');
      const chargeOf = new Map<string, string[]>();
      for (const c of charges) chargeOf.set(c.order_id, [...(chargeOf.get(c.order_id) ?? []), c.status]);
      for (const row of rows) {
        const statuses = chargeOf.get(row.id) ?? [];
        if (row.status === 'CONFIRMED') {
          expect(statuses, `charges of CONFIRMED order ${row.id}`).to.deep.equal(['captured']);
          expect(row.payment_status).to.equal('CAPTURED');
        } else {
          expect(statuses, `charges of ${row.status} order ${row.id}`).to.not.include('captured');
        }
      }
      // At the gateway: each charge cut off by the kill was looked up before anything else was asked of it,
      // and no order was charged twice (the discipline check also runs when the system stops).
      for (const id of cutOff) {
        const calls = system.paymentCalls(id);
        expect(calls[0], `first call of order ${id}, cut off by the kill`).to.equal('charge:…');
        expect(calls[1], `calls of order ${id} after the restart: ${calls.join(', ')}`).to.match(/^lookup:/);
      }
      expect(paymentViolations(system.gatewayLog())).to.deep.equal([]);

      const doubled = await db('orders')
        .select('customer_id', 'idempotency_key')
        .groupBy('customer_id', 'idempotency_key')
        .havingRaw('count(*) > 1');
      expect(doubled).to.deep.equal([]);

      // Across both databases: every order, the warm-up's too, agrees with its reservation.
      const reconciled = await reconcileSystem(system);
      expect(reconciled.disagreements).to.deep.equal([]);
      expect(reconciled.orders).to.equal(plans.length + 1);
    });
  });
});
