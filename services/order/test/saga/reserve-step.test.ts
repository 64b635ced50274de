import { expect } from 'chai';
import { dueInMs, EUR, leaseOf, PRODUCT_A, PRODUCT_B, SETTINGS, useSagaHarness } from './saga-harness.js';

describe('saga steps in-process: advancing and reserving', function () {
  const h = useSagaHarness();

  describe('advanceOrder dispatch', () => {
    it('a terminal order only drops its lease and any due time: no call to inventory or the gateway', async () => {
      const order = await h.order({ status: 'CANCELLED', cancelRequested: true });
      const after = await h.advance(order.id);
      expect(after.status).to.equal('CANCELLED');
      expect(after.cancelRequested).to.equal(false);
      expect(after.nextAttemptAt).to.equal(undefined);
      expect(await leaseOf(h.db, order.id)).to.deep.equal({ lease_token: null, lease_until: null });
      expect(h.inventory.calls).to.deep.equal([]);
      expect(h.gateway.calls).to.deep.equal([]);
    });

    it('a CONFIRMED order with nothing requested is left alone (not due again)', async () => {
      const order = await h.order({ status: 'CONFIRMED', paymentStatus: 'CAPTURED' });
      const after = await h.advance(order.id);
      expect(after.status).to.equal('CONFIRMED');
      expect(after.nextAttemptAt).to.equal(undefined);
      expect(await leaseOf(h.db, order.id)).to.deep.equal({ lease_token: null, lease_until: null });
      expect([...h.inventory.ops(), ...h.gateway.ops()]).to.deep.equal([]);
    });

    it('a cancellation request goes first, whatever the status', async () => {
      const order = await h.order({ status: 'PENDING', cancelRequested: true, cancelReason: 'changed my mind' });
      const after = await h.advance(order.id);
      expect(after.status).to.equal('CANCELLED');
      expect(h.inventory.ops()).to.deep.equal(['release']);
      expect(h.inventory.calls[0]!.args[1]).to.equal('changed my mind');
    });

    it('AWAITING_STOCK asks inventory again, like PENDING', async () => {
      const order = await h.order({ status: 'AWAITING_STOCK', attempts: 1 });
      h.inventory.next('reserve', { kind: 'reserved', items: [{ productId: PRODUCT_A, quantity: 2, unitPrice: EUR(250) }] });
      await h.advance(order.id);
      expect(h.inventory.ops()[0]).to.equal('reserve');
      expect((await h.events(order.id)).map((e) => `${e.fromStatus}>${e.toStatus}`)[0]).to.equal('AWAITING_STOCK>RESERVED');
    });
  });

  describe('reserveStep', () => {
    it('reserved: records the captured prices and total, moves to RESERVED and is due at once', async () => {
      const order = await h.order({
        items: [
          { productId: PRODUCT_A, quantity: 3 },
          { productId: PRODUCT_B, quantity: 2 },
        ],
        correlationId: 'corr-create',
      });
      h.inventory.next('reserve', {
        kind: 'reserved',
        items: [
          { productId: PRODUCT_A, quantity: 3, unitPrice: EUR(199) },
          { productId: PRODUCT_B, quantity: 2, unitPrice: EUR(1_000) },
        ],
      });
      await h.advance(order.id);

      // What the reservation itself leaves (payment may follow in the same step).
      expect(h.inventory.calls[0]).to.deep.equal({
        op: 'reserve',
        args: [
          order.id,
          [
            { productId: PRODUCT_A, quantity: 3 },
            { productId: PRODUCT_B, quantity: 2 },
          ],
          SETTINGS.reservationTtlMs,
          { correlationId: 'corr-create' },
        ],
      });
      const stored = await h.stored(order.id);
      expect(stored.total).to.deep.equal(EUR(3 * 199 + 2 * 1_000));
      expect(stored.items.map((i) => [i.productId, i.unitPrice])).to.deep.equal([
        [PRODUCT_A, EUR(199)],
        [PRODUCT_B, EUR(1_000)],
      ]);
      expect(h.transitions[0]).to.equal('PENDING>RESERVED');
      const [reservedEvent] = await h.events(order.id);
      expect([reservedEvent!.fromStatus, reservedEvent!.toStatus, reservedEvent!.reason, reservedEvent!.correlationId]).to.deep.equal([
        'PENDING',
        'RESERVED',
        'stock reserved',
        'corr-create',
      ]);
    });

    it('a correlation id passed to the step wins over the order’s own', async () => {
      const order = await h.order({ correlationId: 'corr-create' });
      h.inventory.next('reserve', { kind: 'reserved', items: [{ productId: PRODUCT_A, quantity: 2, unitPrice: EUR(250) }] });
      await h.advance(order.id, 'corr-inline');
      expect(h.inventory.calls[0]!.args[3]).to.deep.equal({ correlationId: 'corr-inline' });
      expect((await h.events(order.id))[0]!.correlationId).to.equal('corr-inline');
    });

    it('reserved in two currencies: releases the stock and fails the order', async () => {
      const order = await h.order({
        items: [
          { productId: PRODUCT_A, quantity: 1 },
          { productId: PRODUCT_B, quantity: 1 },
        ],
      });
      h.inventory.next('reserve', {
        kind: 'reserved',
        items: [
          { productId: PRODUCT_A, quantity: 1, unitPrice: EUR(100) },
          { productId: PRODUCT_B, quantity: 1, unitPrice: { currencyCode: 'USD', minorUnits: 100 } },
        ],
      });
      const after = await h.advance(order.id);
      expect(h.inventory.ops()).to.deep.equal(['reserve', 'release']);
      expect(h.inventory.calls[1]!.args.slice(0, 2)).to.deep.equal([order.id, 'items priced in different currencies']);
      expect(after.status).to.equal('FAILED');
      expect(after.cancelReason).to.equal('items are priced in different currencies');
      expect(after.total).to.equal(undefined);
      expect(after.nextAttemptAt).to.equal(undefined);
      expect((await h.events(order.id)).map((e) => e.reason)).to.deep.equal(['mixed currencies']);
    });

    it('insufficient, attempts left: AWAITING_STOCK, one attempt spent, backoff for it; a second miss adds no log entry', async () => {
      const order = await h.order();
      const miss = { kind: 'insufficient' as const, productId: PRODUCT_A, available: 1, message: 'only 1 left' };
      h.inventory.next('reserve', miss, miss);
      const first = await h.advance(order.id);
      expect(first.status).to.equal('AWAITING_STOCK');
      expect(first.attempts).to.equal(1);
      expect(first.lastError).to.equal('only 1 left');
      expect(dueInMs(first)).to.equal(750); // 1000·2⁰, jitter at its midpoint
      const second = await h.advance(order.id);
      expect(second.status).to.equal('AWAITING_STOCK');
      expect(second.attempts).to.equal(2);
      expect(dueInMs(second)).to.equal(1_500);
      const events = await h.events(order.id);
      expect(events.map((e) => [e.toStatus, e.reason, e.error])).to.deep.equal([['AWAITING_STOCK', 'insufficient stock', 'only 1 left']]);
      expect(h.transitions).to.deep.equal(['PENDING>AWAITING_STOCK']);
    });

    it('insufficient on the last attempt: FAILED, saying how many attempts it took', async () => {
      const order = await h.order({ status: 'AWAITING_STOCK', attempts: SETTINGS.retry.maxAttempts - 1 });
      h.inventory.next('reserve', { kind: 'insufficient', productId: PRODUCT_A, available: 0, message: 'sold out' });
      const after = await h.advance(order.id);
      expect(after.status).to.equal('FAILED');
      expect(after.attempts).to.equal(3);
      expect(after.lastError).to.equal('sold out');
      expect(after.cancelReason).to.equal('stock did not arrive after 3 attempts');
      expect(after.nextAttemptAt).to.equal(undefined);
      const [event] = await h.events(order.id);
      expect([event!.reason, event!.error]).to.deep.equal(['stock did not arrive after 3 attempts', 'sold out']);
    });

    it('rejected: FAILED with inventory’s message', async () => {
      const order = await h.order();
      h.inventory.next('reserve', { kind: 'rejected', message: 'product 42 is deleted' });
      const after = await h.advance(order.id);
      expect(after.status).to.equal('FAILED');
      expect(after.lastError).to.equal('product 42 is deleted');
      expect(after.cancelReason).to.equal('product 42 is deleted');
      expect(after.nextAttemptAt).to.equal(undefined);
      const [event] = await h.events(order.id);
      expect([event!.reason, event!.error]).to.deep.equal(['inventory refused the reservation', 'product 42 is deleted']);
    });

    it('gone: CANCELLED, the reservation cannot be used', async () => {
      const order = await h.order();
      h.inventory.next('reserve', { kind: 'gone', status: 'EXPIRED', message: 'reservation expired' });
      const after = await h.advance(order.id);
      expect(after.status).to.equal('CANCELLED');
      expect(after.lastError).to.equal('reservation expired');
      expect(after.cancelReason).to.equal('the reservation expired before the order could use it');
      expect(after.nextAttemptAt).to.equal(undefined);
      const [event] = await h.events(order.id);
      expect([event!.reason, event!.error]).to.deep.equal(['reservation expired', 'reservation expired']);
    });

    it('unavailable: stays PENDING, no stock attempt spent, retried after the backoff for the next attempt', async () => {
      const order = await h.order({ attempts: 1 });
      h.inventory.next('reserve', { kind: 'unavailable', message: 'inventory down' });
      const after = await h.advance(order.id);
      expect(after.status).to.equal('PENDING');
      expect(after.attempts).to.equal(1);
      expect(after.lastError).to.equal('inventory down');
      expect(dueInMs(after)).to.equal(1_500); // attempt 2: 1000·2¹ · ¾
      expect(await h.events(order.id)).to.deep.equal([]);
      expect(h.transitions).to.deep.equal([]);
      expect(await leaseOf(h.db, order.id)).to.deep.equal({ lease_token: null, lease_until: null });
    });
  });

  describe('reserveStep while inventory is unavailable: the backoff grows, capped, and resets after an answer', () => {
    const down = { kind: 'unavailable' as const, message: 'inventory down' };
    /** The delays (ms after NOW) the next `n` unavailable answers give `orderId`, one step each. */
    async function delaysOf(orderId: string, n: number): Promise<(number | null)[]> {
      h.inventory.next('reserve', ...Array.from({ length: n }, () => down));
      const delays: (number | null)[] = [];
      for (let i = 0; i < n; i += 1) delays.push(dueInMs(await h.advance(orderId)));
      return delays;
    }

    it('each consecutive UNAVAILABLE doubles the wait (jitter at its midpoint: ¾ of 1000·2ⁿ⁻¹) up to the cap', async () => {
      const order = await h.order();
      // RETRY_MAX_MS 60 000: from the 7th on the ceiling is the cap, ¾ of it at the midpoint.
      expect(await delaysOf(order.id, 8)).to.deep.equal([750, 1_500, 3_000, 6_000, 12_000, 24_000, 45_000, 45_000]);
      expect((await h.stored(order.id)).attempts, 'no stock attempt spent').to.equal(0);
    });

    it('the jitter spans half to all of the ceiling, and never past the cap', async () => {
      const order = await h.order();
      h.deps = { ...h.deps, random: () => 0 };
      expect(await delaysOf(order.id, 3)).to.deep.equal([500, 1_000, 2_000]);
      h.deps = { ...h.deps, random: () => 0.999_999 };
      expect(await delaysOf(order.id, 7)).to.deep.equal([8_000, 16_000, 32_000, 60_000, 60_000, 60_000, 60_000]);
    });

    it('an answer from inventory (here: not enough stock) resets it: the next UNAVAILABLE waits as after one', async () => {
      const order = await h.order();
      expect(await delaysOf(order.id, 3)).to.deep.equal([750, 1_500, 3_000]);
      h.inventory.next('reserve', { kind: 'insufficient', productId: PRODUCT_A, available: 0, message: 'sold out' });
      expect(dueInMs(await h.advance(order.id))).to.equal(750); // stock attempt 1
      // Stock attempt 1 spent, first UNAVAILABLE since the answer: 1000·2¹ · ¾.
      expect(await delaysOf(order.id, 2)).to.deep.equal([1_500, 3_000]);
    });

    it('the count is inventory’s, not one order’s: another order retried while it is still down waits longer too', async () => {
      const [first, second] = [await h.order(), await h.order()];
      expect(await delaysOf(first.id, 2)).to.deep.equal([750, 1_500]);
      expect(await delaysOf(second.id, 1)).to.deep.equal([3_000]);
    });
  });
});
