import { expect } from 'chai';
import { dueInMs, EUR, leaseOf, PRODUCT_A, PRODUCT_B, useSagaHarness, type SagaHarness } from './saga-harness.js';

describe('saga steps in-process: cancelling', function () {
  const h = useSagaHarness();

  const cancelling = (setup: Parameters<SagaHarness['order']>[0] = {}) =>
    h.order({ status: 'RESERVED', total: EUR(500), cancelRequested: true, cancelReason: 'customer asked', ...setup });

  it('nothing paid: releases the stock with the reason and cancels; lease and flag dropped', async () => {
    const order = await cancelling({ correlationId: 'corr-c' });
    const after = await h.advance(order.id);
    expect(h.gateway.calls).to.deep.equal([]);
    expect(h.inventory.calls).to.deep.equal([{ op: 'release', args: [order.id, 'customer asked', { correlationId: 'corr-c' }] }]);
    expect(after.status).to.equal('CANCELLED');
    expect(after.cancelRequested).to.equal(false);
    expect(after.cancelReason).to.equal('customer asked');
    expect(after.paymentStatus).to.equal('NOT_STARTED');
    expect(after.lastError).to.equal(undefined);
    expect(after.nextAttemptAt).to.equal(undefined);
    expect(await leaseOf(h.db, order.id)).to.deep.equal({ lease_token: null, lease_until: null });
    const [event] = await h.events(order.id);
    expect([event!.fromStatus, event!.toStatus, event!.reason, event!.error]).to.deep.equal([
      'RESERVED',
      'CANCELLED',
      'customer asked',
      undefined,
    ]);
    expect(h.transitions).to.deep.equal(['RESERVED>CANCELLED']);
  });

  it('without a reason given: "cancelled by request"; an earlier error stays on record', async () => {
    const order = await cancelling({ cancelReason: '', lastError: 'inventory down' });
    const after = await h.advance(order.id);
    expect(h.inventory.calls[0]!.args[1]).to.equal('cancelled by request');
    expect(after.cancelReason).to.equal('cancelled by request');
    expect(after.lastError).to.equal('inventory down');
  });

  it('captured: refunds once, then releases and cancels', async () => {
    const order = await cancelling({ paymentStatus: 'CAPTURED', paymentAttempts: 1 });
    const after = await h.advance(order.id);
    expect(h.gateway.calls).to.deep.equal([{ op: 'refund', args: [order.id] }]);
    expect(h.inventory.ops()).to.deep.equal(['release']);
    expect(after.status).to.equal('CANCELLED');
    expect(after.paymentStatus).to.equal('REFUNDED');
  });

  it('the refund is unavailable: retried after the backoff for the next attempt, still CAPTURED, stock held', async () => {
    const order = await cancelling({ paymentStatus: 'CAPTURED', paymentAttempts: 1 });
    h.gateway.next('refund', { kind: 'unavailable', reason: 'gateway busy' });
    const after = await h.advance(order.id);
    expect(h.inventory.calls).to.deep.equal([]);
    expect(after.status).to.equal('RESERVED');
    expect(after.paymentStatus).to.equal('CAPTURED');
    expect(after.cancelRequested).to.equal(true);
    expect(after.lastError).to.equal('gateway busy');
    expect(dueInMs(after)).to.equal(1_500);
  });

  describe('a charge of unknown outcome is looked up first', () => {
    for (const [found, recorded, refunds] of [
      ['captured', 'REFUNDED', 1],
      ['declined', 'DECLINED', 0],
      ['none', 'NOT_STARTED', 0],
      ['refunded', 'NOT_STARTED', 0],
    ] as const) {
      it(`lookup ${found}: recorded as ${recorded}, ${refunds} refund`, async () => {
        const order = await cancelling({ paymentStatus: 'PENDING', paymentAttempts: 1 });
        h.gateway.next('lookup', found === 'captured' ? { status: 'captured', chargeId: 'ch_1' } : { status: found });
        const after = await h.advance(order.id);
        expect(h.gateway.ops()).to.deep.equal(['lookup', ...Array(refunds).fill('refund')]);
        expect(after.paymentStatus).to.equal(recorded);
        expect(after.status).to.equal('CANCELLED');
        expect(h.inventory.ops()).to.deep.equal(['release']);
      });
    }

    it('lookup unavailable: nothing else happens, retried after the backoff for the next attempt', async () => {
      const order = await cancelling({ paymentStatus: 'PENDING', paymentAttempts: 1 });
      h.gateway.next('lookup', { status: 'unavailable' });
      const after = await h.advance(order.id);
      expect(h.gateway.ops()).to.deep.equal(['lookup']);
      expect(h.inventory.calls).to.deep.equal([]);
      expect(after.status).to.equal('RESERVED');
      expect(after.paymentStatus).to.equal('PENDING');
      expect(after.lastError).to.equal('payment gateway unavailable');
      expect(dueInMs(after)).to.equal(1_500);
    });
  });

  describe('a CONFIRMED order', () => {
    const confirmed = () =>
      cancelling({
        status: 'CONFIRMED',
        paymentStatus: 'CAPTURED',
        paymentAttempts: 1,
        correlationId: 'corr-k',
        items: [
          { productId: PRODUCT_A, quantity: 2, unitPrice: EUR(100) },
          { productId: PRODUCT_B, quantity: 5, unitPrice: EUR(60) },
        ],
      });

    it('refunds, puts every item back on the shelf (idempotent key per product), cancels without a release', async () => {
      const order = await confirmed();
      const after = await h.advance(order.id);
      expect(h.gateway.ops()).to.deep.equal(['refund']);
      expect(h.inventory.calls).to.deep.equal([
        { op: 'restock', args: [PRODUCT_A, 2, `order-cancel-${order.id}-${PRODUCT_A}`, { correlationId: 'corr-k' }] },
        { op: 'restock', args: [PRODUCT_B, 5, `order-cancel-${order.id}-${PRODUCT_B}`, { correlationId: 'corr-k' }] },
      ]);
      expect(after.status).to.equal('CANCELLED');
      expect(after.paymentStatus).to.equal('REFUNDED');
      expect(after.cancelRequested).to.equal(false);
      expect(after.nextAttemptAt).to.equal(undefined);
      expect((await h.events(order.id)).map((e) => [e.fromStatus, e.toStatus, e.reason])).to.deep.equal([
        ['CONFIRMED', 'CANCELLED', 'customer asked'],
      ]);
    });

    it('a restock is unavailable: stops there, retried after the backoff; the next step does not refund again', async () => {
      const order = await confirmed();
      h.inventory.next('restock', { kind: 'done' }, { kind: 'unavailable', message: 'inventory down' });
      const first = await h.advance(order.id);
      expect(h.inventory.ops()).to.deep.equal(['restock', 'restock']);
      expect(first.status).to.equal('CONFIRMED');
      expect(first.paymentStatus).to.equal('REFUNDED');
      expect(first.lastError).to.equal('inventory down');
      expect(dueInMs(first)).to.equal(1_500);

      const second = await h.advance(order.id);
      expect(h.gateway.ops()).to.deep.equal(['refund']);
      expect(second.status).to.equal('CANCELLED');
    });
  });

  it('the release is unavailable: retried after the backoff for the next attempt, still RESERVED', async () => {
    const order = await cancelling({ paymentAttempts: 2 });
    h.inventory.next('release', { kind: 'unavailable', message: 'inventory down' });
    const after = await h.advance(order.id);
    expect(after.status).to.equal('RESERVED');
    expect(after.cancelRequested).to.equal(true);
    expect(after.lastError).to.equal('inventory down');
    expect(dueInMs(after)).to.equal(3_000); // attempt 3: 1000·2² · ¾
  });

  it('a PENDING order (nothing reserved yet) cancels with a release too (nothing held is fine)', async () => {
    const order = await cancelling({ status: 'PENDING' });
    const after = await h.advance(order.id);
    expect(h.inventory.ops()).to.deep.equal(['release']);
    expect(after.status).to.equal('CANCELLED');
  });
});
