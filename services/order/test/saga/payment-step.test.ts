import { expect } from 'chai';
import { dueInMs, EUR, SETTINGS, useSagaHarness, type SagaHarness } from './saga-harness.js';

const EXPIRED_DURING = 'the reservation expired during payment; payment refunded';
const EXPIRED_BEFORE = 'the reservation expired before payment completed';

describe('saga steps in-process: payment', function () {
  const h = useSagaHarness();

  const reserved = (setup: Parameters<SagaHarness['order']>[0] = {}) => h.order({ status: 'RESERVED', total: EUR(500), ...setup });

  describe('charging', () => {
    it('extends the reservation, records PENDING, charges once, then commits and confirms', async () => {
      const order = await reserved({ correlationId: 'corr-1' });
      let storedDuringCharge: { payment_status: string; payment_attempts: number; lease_token: string | null } | undefined;
      h.gateway.next('charge', async () => {
        storedDuringCharge = await h
          .db('orders')
          .select('payment_status', 'payment_attempts', 'lease_token')
          .where({ id: order.id })
          .first();
        return { kind: 'captured' as const, chargeId: 'ch_9' };
      });
      const after = await h.advance(order.id);

      expect(h.inventory.calls).to.deep.equal([
        { op: 'extend', args: [order.id, SETTINGS.reservationTtlMs, { correlationId: 'corr-1' }] },
        { op: 'commit', args: [order.id, { correlationId: 'corr-1' }] },
      ]);
      expect(h.gateway.calls).to.deep.equal([
        { op: 'charge', args: [{ orderId: order.id, amount: EUR(500), token: 'tok_visa' }, SETTINGS.paymentTimeoutMs] },
      ]);
      // The charge's start is on record before the gateway is asked, and the step still holds its lease.
      expect(storedDuringCharge!.payment_status).to.equal('PENDING');
      expect(storedDuringCharge!.payment_attempts).to.equal(1);
      expect(storedDuringCharge!.lease_token).to.be.a('string');
      expect(after.status).to.equal('CONFIRMED');
      expect(after.paymentStatus).to.equal('CAPTURED');
      expect(after.lastError).to.equal(undefined);
      expect(after.nextAttemptAt).to.equal(undefined);
      expect((await h.events(order.id)).map((e) => [e.toStatus, e.reason])).to.deep.equal([
        ['CONFIRMED', 'payment captured, stock committed'],
      ]);
      expect(h.transitions).to.deep.equal(['RESERVED>CONFIRMED']);
    });

    it('declined: records DECLINED and the reason, releases the stock, cancels; never charges again', async () => {
      const order = await reserved();
      h.gateway.next('charge', { kind: 'declined', reason: 'card declined' });
      const after = await h.advance(order.id);
      expect(h.gateway.ops()).to.deep.equal(['charge']);
      expect(h.inventory.ops()).to.deep.equal(['extend', 'release']);
      expect(h.inventory.calls[1]!.args.slice(0, 2)).to.deep.equal([order.id, 'payment declined']);
      expect(after.status).to.equal('CANCELLED');
      expect(after.paymentStatus).to.equal('DECLINED');
      expect(after.cancelReason).to.equal('payment declined');
      expect(after.lastError).to.equal('card declined');
      const [event] = await h.events(order.id);
      expect([event!.reason, event!.error]).to.deep.equal(['payment declined', 'card declined']);
    });

    it('unknown outcome: stays PENDING with the attempt counted, retried later; the next step looks up before charging', async () => {
      const order = await reserved();
      h.gateway.next('charge', { kind: 'unknown', reason: 'timed out after 700 ms' });
      const first = await h.advance(order.id);
      expect(first.status).to.equal('RESERVED');
      expect(first.paymentStatus).to.equal('PENDING');
      expect(first.paymentAttempts).to.equal(1);
      expect(first.lastError).to.equal('timed out after 700 ms');
      expect(dueInMs(first)).to.equal(750);

      h.gateway.next('lookup', { status: 'captured', chargeId: 'ch_1' });
      const second = await h.advance(order.id);
      expect(h.gateway.ops()).to.deep.equal(['charge', 'lookup']);
      expect(second.status).to.equal('CONFIRMED');
      expect(second.paymentStatus).to.equal('CAPTURED');
    });

    it('unavailable with attempts left: back to NOT_STARTED, retried after the backoff for this attempt', async () => {
      const order = await reserved({ paymentAttempts: 1 });
      h.gateway.next('charge', { kind: 'unavailable', reason: 'gateway busy' });
      const after = await h.advance(order.id);
      expect(after.status).to.equal('RESERVED');
      expect(after.paymentStatus).to.equal('NOT_STARTED');
      expect(after.paymentAttempts).to.equal(2);
      expect(after.lastError).to.equal('gateway busy');
      expect(dueInMs(after)).to.equal(1_500);
      expect(h.inventory.ops()).to.deep.equal(['extend']);
    });

    it('unavailable on the last attempt: NOT_STARTED, stock released, cancelled', async () => {
      const order = await reserved({ paymentAttempts: SETTINGS.paymentMaxAttempts - 1 });
      h.gateway.next('charge', { kind: 'unavailable', reason: 'gateway busy' });
      const after = await h.advance(order.id);
      expect(after.status).to.equal('CANCELLED');
      expect(after.paymentStatus).to.equal('NOT_STARTED');
      expect(after.cancelReason).to.equal('payment unavailable after 3 attempts');
      expect(after.lastError).to.equal('gateway busy');
      expect(h.inventory.ops()).to.deep.equal(['extend', 'release']);
      const [event] = await h.events(order.id);
      expect([event!.reason, event!.error]).to.deep.equal(['payment unavailable after 3 attempts', 'gateway busy']);
    });

    for (const refusal of [{ kind: 'gone', status: 'EXPIRED', message: 'expired' } as const, { kind: 'notFound' } as const]) {
      it(`the reservation cannot be extended (${refusal.kind}): cancelled without charging`, async () => {
        const order = await reserved();
        h.inventory.next('extend', refusal);
        const after = await h.advance(order.id);
        expect(h.gateway.calls).to.deep.equal([]);
        expect(after.status).to.equal('CANCELLED');
        expect(after.paymentStatus).to.equal('NOT_STARTED');
        expect(after.cancelReason).to.equal(EXPIRED_BEFORE);
        expect((await h.events(order.id)).map((e) => e.reason)).to.deep.equal(['reservation expired']);
      });
    }

    it('inventory unavailable for the extension: no charge, retried after the backoff for the next attempt', async () => {
      const order = await reserved({ paymentAttempts: 1 });
      h.inventory.next('extend', { kind: 'unavailable', message: 'inventory down' });
      const after = await h.advance(order.id);
      expect(h.gateway.calls).to.deep.equal([]);
      expect(after.status).to.equal('RESERVED');
      expect(after.paymentStatus).to.equal('NOT_STARTED');
      expect(after.paymentAttempts).to.equal(1);
      expect(after.lastError).to.equal('inventory down');
      expect(dueInMs(after)).to.equal(1_500);
    });
  });

  describe('a charge of unknown outcome (PENDING) is looked up, never charged blindly', () => {
    it('lookup captured: commits without charging', async () => {
      const order = await reserved({ paymentStatus: 'PENDING', paymentAttempts: 1 });
      h.gateway.next('lookup', { status: 'captured', chargeId: 'ch_1' });
      h.inventory.next('commit', { kind: 'unavailable', message: 'inventory down' });
      const after = await h.advance(order.id);
      expect(h.gateway.calls).to.deep.equal([{ op: 'lookup', args: [order.id] }]);
      // CAPTURED is recorded before the commit is tried.
      expect(after.paymentStatus).to.equal('CAPTURED');
      expect(after.status).to.equal('RESERVED');
      expect(after.lastError).to.equal('inventory down');
      expect(dueInMs(after)).to.equal(1_500);
    });

    it('lookup declined: cancels without charging, keeping the error on record', async () => {
      const order = await reserved({ paymentStatus: 'PENDING', paymentAttempts: 1, lastError: 'timed out' });
      h.gateway.next('lookup', { status: 'declined' });
      const after = await h.advance(order.id);
      expect(h.gateway.ops()).to.deep.equal(['lookup']);
      expect(after.status).to.equal('CANCELLED');
      expect(after.lastError).to.equal('timed out');
      expect(h.inventory.ops()).to.deep.equal(['release']);
    });

    it('lookup none: nothing was charged, so it charges (once)', async () => {
      const order = await reserved({ paymentStatus: 'PENDING', paymentAttempts: 1 });
      const after = await h.advance(order.id);
      expect(h.gateway.ops()).to.deep.equal(['lookup', 'charge']);
      expect(after.status).to.equal('CONFIRMED');
      expect(after.paymentAttempts).to.equal(2);
    });

    it('lookup unavailable: no charge, retried after the backoff of the attempt already made', async () => {
      const order = await reserved({ paymentStatus: 'PENDING', paymentAttempts: 2 });
      h.gateway.next('lookup', { status: 'unavailable' });
      const after = await h.advance(order.id);
      expect(h.gateway.ops()).to.deep.equal(['lookup']);
      expect(h.inventory.calls).to.deep.equal([]);
      expect(after.paymentStatus).to.equal('PENDING');
      expect(after.lastError).to.equal('payment gateway unavailable');
      expect(dueInMs(after)).to.equal(1_500); // attempt 2, not 3
    });
  });

  describe('a payment outcome already on record', () => {
    it('CAPTURED: commits without asking the gateway', async () => {
      const order = await reserved({ paymentStatus: 'CAPTURED', paymentAttempts: 1 });
      const after = await h.advance(order.id);
      expect(h.gateway.calls).to.deep.equal([]);
      expect(h.inventory.ops()).to.deep.equal(['commit']);
      expect(after.status).to.equal('CONFIRMED');
    });

    it('DECLINED: releases and cancels without asking the gateway', async () => {
      const order = await reserved({ paymentStatus: 'DECLINED', paymentAttempts: 1, lastError: 'card declined' });
      const after = await h.advance(order.id);
      expect(h.gateway.calls).to.deep.equal([]);
      expect(h.inventory.ops()).to.deep.equal(['release']);
      expect(after.status).to.equal('CANCELLED');
      expect(after.lastError).to.equal('card declined');
    });
  });

  describe('the commit after the capture', () => {
    it('cancelled while the charge was in flight: refunds and releases instead of confirming', async () => {
      // An earlier attempt's error: the capture clears it, so the cancelled order does not carry it.
      const order = await reserved({ cancelReason: 'too slow', lastError: 'gateway busy', paymentAttempts: 1 });
      h.gateway.next('charge', async () => {
        // As CancelOrder writes it: the flag, and a new version.
        await h
          .db('orders')
          .update({ cancel_requested: true, version: h.db.raw('version + 1') })
          .where({ id: order.id });
        return { kind: 'captured' as const, chargeId: 'ch_1' };
      });
      const after = await h.advance(order.id);

      expect(h.gateway.ops()).to.deep.equal(['charge', 'refund']);
      expect(h.inventory.ops()).to.deep.equal(['extend', 'release']);
      expect(after.status).to.equal('CANCELLED');
      expect(after.paymentStatus).to.equal('REFUNDED');
      expect(after.cancelReason).to.equal('too slow');
      expect(after.lastError).to.equal(undefined);
    });

    it('commit unavailable: stays RESERVED and CAPTURED, retried after the backoff for the next attempt', async () => {
      const order = await reserved({ paymentStatus: 'CAPTURED', paymentAttempts: 1 });
      h.inventory.next('commit', { kind: 'unavailable', message: 'inventory down' });
      const after = await h.advance(order.id);
      expect(after.status).to.equal('RESERVED');
      expect(after.paymentStatus).to.equal('CAPTURED');
      expect(after.lastError).to.equal('inventory down');
      expect(dueInMs(after)).to.equal(1_500);
      expect(h.gateway.calls).to.deep.equal([]);
    });

    for (const [refusal, error] of [
      [{ kind: 'gone', status: 'EXPIRED', message: 'reservation r1 is EXPIRED' }, 'reservation r1 is EXPIRED'],
      [{ kind: 'notFound' }, 'reservation not found'],
    ] as const) {
      it(`the reservation ended during payment (${refusal.kind}): refunds once, releases, cancels`, async () => {
        const order = await reserved({ paymentStatus: 'CAPTURED', paymentAttempts: 1 });
        h.inventory.next('commit', refusal);
        const after = await h.advance(order.id);
        expect(h.gateway.calls).to.deep.equal([{ op: 'refund', args: [order.id] }]);
        expect(h.inventory.ops()).to.deep.equal(['commit', 'release']);
        expect(h.inventory.calls[1]!.args[1]).to.equal(EXPIRED_DURING);
        expect(after.status).to.equal('CANCELLED');
        expect(after.paymentStatus).to.equal('REFUNDED');
        expect(after.cancelReason).to.equal(EXPIRED_DURING);
        expect(after.lastError).to.equal(error);
      });
    }

    it('the refund is unavailable: retried later, remembering the reservation is gone', async () => {
      const order = await reserved({ paymentStatus: 'CAPTURED', paymentAttempts: 1 });
      h.inventory.next('commit', { kind: 'notFound' });
      h.gateway.next('refund', { kind: 'unavailable', reason: 'gateway busy' });
      const after = await h.advance(order.id);
      expect(after.status).to.equal('RESERVED');
      expect(after.paymentStatus).to.equal('CAPTURED');
      expect(after.reservationExpired).to.equal(true);
      expect(after.lastError).to.equal('gateway busy');
      expect(dueInMs(after)).to.equal(1_500);
      expect(h.inventory.ops()).to.deep.equal(['commit']);

      // Next step: the expiry path refunds, and does not try to commit again.
      const next = await h.advance(order.id);
      expect(h.inventory.ops()).to.deep.equal(['commit', 'release']);
      expect(h.gateway.ops()).to.deep.equal(['refund', 'refund']);
      expect(next.status).to.equal('CANCELLED');
      expect(next.paymentStatus).to.equal('REFUNDED');
    });
  });

  describe('inventory expired the reservation (reservationExpired)', () => {
    it('nothing charged: cancels without a gateway or inventory call', async () => {
      const order = await reserved({ reservationExpired: true });
      const after = await h.advance(order.id);
      expect(h.gateway.calls).to.deep.equal([]);
      expect(h.inventory.calls).to.deep.equal([]);
      expect(after.status).to.equal('CANCELLED');
      expect(after.cancelReason).to.equal(EXPIRED_BEFORE);
      expect(after.cancelRequested).to.equal(false);
      expect(after.nextAttemptAt).to.equal(undefined);
    });

    it('a charge of unknown outcome that did capture: looked up, then refunded', async () => {
      const order = await reserved({ reservationExpired: true, paymentStatus: 'PENDING', paymentAttempts: 1 });
      h.gateway.next('lookup', { status: 'captured', chargeId: 'ch_1' });
      const after = await h.advance(order.id);
      expect(h.gateway.ops()).to.deep.equal(['lookup', 'refund']);
      expect(after.status).to.equal('CANCELLED');
      expect(after.paymentStatus).to.equal('REFUNDED');
      expect(after.cancelReason).to.equal(EXPIRED_DURING);
      expect(after.lastError).to.equal('reservation expired');
    });

    it('a charge of unknown outcome that never happened: looked up, no refund', async () => {
      const order = await reserved({ reservationExpired: true, paymentStatus: 'PENDING', paymentAttempts: 1 });
      const after = await h.advance(order.id);
      expect(h.gateway.ops()).to.deep.equal(['lookup']);
      expect(after.status).to.equal('CANCELLED');
      expect(after.cancelReason).to.equal(EXPIRED_BEFORE);
    });

    it('the lookup is unavailable: retried after the backoff of the attempt made', async () => {
      const order = await reserved({ reservationExpired: true, paymentStatus: 'PENDING', paymentAttempts: 2 });
      h.gateway.next('lookup', { status: 'unavailable' });
      const after = await h.advance(order.id);
      expect(h.gateway.ops()).to.deep.equal(['lookup']);
      expect(after.status).to.equal('RESERVED');
      expect(after.lastError).to.equal('payment gateway unavailable');
      expect(dueInMs(after)).to.equal(1_500);
    });

    it('captured: refunded (no lookup), then cancelled', async () => {
      const order = await reserved({ reservationExpired: true, paymentStatus: 'CAPTURED', paymentAttempts: 1 });
      const after = await h.advance(order.id);
      expect(h.gateway.ops()).to.deep.equal(['refund']);
      expect(after.paymentStatus).to.equal('REFUNDED');
      expect(after.status).to.equal('CANCELLED');
    });
  });
});
