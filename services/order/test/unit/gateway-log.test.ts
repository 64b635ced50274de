import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { PaymentGateway } from '../../domain/payment-port.js';
import { recordingGateway, type GatewayCallEntry } from '../../payments/recording-gateway.js';
import { callsOf, paymentViolations } from '../gateway-log.js';

const ORDER = '0b8f6a3e-3c55-4c2f-9d7e-5a4f1c2b9e10';

/** A log as written by one process (pid 1) unless a step says otherwise. */
function log(...steps: [GatewayCallEntry['op'], string | null, number?][]): GatewayCallEntry[] {
  const entries: GatewayCallEntry[] = [];
  for (const [op, result, pid = 1] of steps) {
    entries.push({ at: entries.length, pid, op, orderId: ORDER, phase: 'call' });
    if (result !== null) entries.push({ at: entries.length, pid, op, orderId: ORDER, phase: 'return', result });
  }
  return entries;
}

describe('gateway call log (the saga’s payment discipline)', () => {
  describe('paymentViolations', () => {
    const clean: [string, GatewayCallEntry[]][] = [
      ['one capture', log(['charge', 'captured'])],
      ['unavailable, then a charge', log(['charge', 'unavailable'], ['charge', 'captured'])],
      ['unknown, lookup none, charge', log(['charge', 'unknown'], ['lookup', 'none'], ['charge', 'captured'])],
      ['unknown, lookup captured', log(['charge', 'unknown'], ['lookup', 'captured'])],
      ['killed mid-charge, lookup after the restart', log(['charge', null, 1], ['lookup', 'captured', 2])],
      ['capture then one refund', log(['charge', 'captured'], ['refund', 'refunded'])],
      ['a refund that was unavailable, asked again', log(['charge', 'captured'], ['refund', 'unavailable'], ['refund', 'refunded'])],
      ['a decline, looked up', log(['charge', 'declined'], ['lookup', 'declined'])],
    ];
    for (const [name, entries] of clean) it(`accepts: ${name}`, () => expect(paymentViolations(entries)).to.deep.equal([]));

    const breaches: [string, GatewayCallEntry[], RegExp][] = [
      ['two captures', log(['charge', 'captured'], ['charge', 'captured']), /charged again while the money stood captured/],
      ['a charge after unknown without a lookup', log(['charge', 'unknown'], ['charge', 'captured']), /stood maybe/],
      ['a charge after a crash without a lookup', log(['charge', null, 1], ['charge', 'captured', 2]), /stood maybe/],
      [
        'a lookup that learnt nothing does not clear',
        log(['charge', 'unknown'], ['lookup', 'unavailable'], ['charge', 'captured']),
        /maybe/,
      ],
      ['a charge after a decline', log(['charge', 'declined'], ['charge', 'captured']), /after a decline/],
      ['a charge after a refund', log(['charge', 'captured'], ['refund', 'refunded'], ['charge', 'captured']), /stood refunded/],
      ['a refund asked twice', log(['charge', 'captured'], ['refund', 'refunded'], ['refund', 'nothing_to_refund']), /refund asked after/],
    ];
    for (const [name, entries, message] of breaches) {
      it(`flags: ${name}`, () => {
        const found = paymentViolations(entries);
        expect(found).to.have.length(1);
        expect(found[0]).to.match(message).and.include(ORDER);
      });
    }

    it('flags two charges in flight at once from two processes', () => {
      const at = (pid: number, phase: GatewayCallEntry['phase'], result?: string): GatewayCallEntry => ({
        at: 0,
        pid,
        op: 'charge',
        orderId: ORDER,
        phase,
        result,
      });
      expect(paymentViolations([at(1, 'call'), at(2, 'call'), at(1, 'return', 'captured'), at(2, 'return', 'captured')])).to.have.length(1);
    });

    it('keeps orders apart', () => {
      const other = randomUUID();
      const entries = [...log(['charge', 'captured']), ...log(['charge', 'captured']).map((e) => ({ ...e, orderId: other }))];
      expect(paymentViolations(entries)).to.deep.equal([]);
    });
  });

  it('callsOf: answers in call order, an unanswered call as …', () => {
    expect(callsOf(log(['charge', 'unknown'], ['lookup', 'captured'], ['refund', null]), ORDER)).to.deep.equal([
      'charge:unknown',
      'lookup:captured',
      'refund:…',
    ]);
  });

  describe('recordingGateway', () => {
    it('writes the call before the gateway is asked, then its answer; a throw is logged and rethrown', async () => {
      const entries: GatewayCallEntry[] = [];
      const seenBefore: number[] = [];
      const inner: PaymentGateway = {
        async charge() {
          seenBefore.push(entries.length);
          return { kind: 'unknown', reason: 'timeout' };
        },
        async lookup() {
          seenBefore.push(entries.length);
          return { status: 'captured', chargeId: 'ch_1' };
        },
        async refund() {
          seenBefore.push(entries.length);
          throw new Error('boom');
        },
      };
      const gateway = recordingGateway(inner, (e) => entries.push(e));
      expect(await gateway.charge({ orderId: ORDER, amount: { currencyCode: 'EUR', minorUnits: 1 }, token: 't' }, 10)).to.deep.equal({
        kind: 'unknown',
        reason: 'timeout',
      });
      expect(await gateway.lookup(ORDER)).to.deep.equal({ status: 'captured', chargeId: 'ch_1' });
      let thrown: unknown;
      await gateway.refund(ORDER).catch((error: unknown) => (thrown = error));
      expect((thrown as Error).message).to.equal('boom');
      expect(seenBefore).to.deep.equal([1, 3, 5]);
      expect(entries.map((e) => `${e.op}/${e.phase}/${e.result ?? ''}`)).to.deep.equal([
        'charge/call/',
        'charge/return/unknown',
        'lookup/call/',
        'lookup/return/captured',
        'refund/call/',
        'refund/throw/boom',
      ]);
      expect(entries.every((e) => e.orderId === ORDER && e.pid === process.pid)).to.equal(true);
    });
  });
});
