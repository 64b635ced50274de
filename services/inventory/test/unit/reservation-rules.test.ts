import { expect } from 'chai';
import { decideExtension, decideSettlement, refusal, type Decision, type Settlement } from '../../domain/reservations/reservation-rules.js';
import type { ReservationStatus } from '../../domain/types.js';

const now = new Date('2025-06-01T12:00:00.000Z');
const later = new Date(now.getTime() + 60_000);
const earlier = new Date(now.getTime() - 60_000);

/** Expected decision for each status × target × expired-or-not: the reservation state machine. */
const settlementTable: [ReservationStatus, Settlement, boolean, Decision['action'], RegExp?][] = [
  ['RESERVED', 'COMMITTED', false, 'apply'],
  ['RESERVED', 'COMMITTED', true, 'refuse', /it expired/],
  ['RESERVED', 'RELEASED', false, 'apply'],
  ['RESERVED', 'RELEASED', true, 'apply'],
  ['COMMITTED', 'COMMITTED', false, 'replay'],
  ['COMMITTED', 'COMMITTED', true, 'replay'],
  ['COMMITTED', 'RELEASED', false, 'refuse', /committed/],
  ['COMMITTED', 'RELEASED', true, 'refuse', /committed/],
  ['RELEASED', 'COMMITTED', false, 'refuse', /it is released/],
  ['RELEASED', 'COMMITTED', true, 'refuse', /it is released/],
  ['RELEASED', 'RELEASED', false, 'replay'],
  ['RELEASED', 'RELEASED', true, 'replay'],
  ['EXPIRED', 'COMMITTED', false, 'refuse', /it is expired/],
  ['EXPIRED', 'COMMITTED', true, 'refuse', /it is expired/],
  ['EXPIRED', 'RELEASED', false, 'replay'],
  ['EXPIRED', 'RELEASED', true, 'replay'],
];

const extensionTable: [ReservationStatus, boolean, Decision['action'], RegExp?][] = [
  ['RESERVED', false, 'apply'],
  ['RESERVED', true, 'refuse', /it expired/],
  ['COMMITTED', false, 'refuse', /it is committed/],
  ['COMMITTED', true, 'refuse', /it is committed/],
  ['RELEASED', false, 'refuse', /it is released/],
  ['RELEASED', true, 'refuse', /it is released/],
  ['EXPIRED', false, 'refuse', /it is expired/],
  ['EXPIRED', true, 'refuse', /it is expired/],
];

const verb: Record<Decision['action'], string> = { apply: 'applies', replay: 'replays', refuse: 'refuses' };
const timing = (expired: boolean): string => (expired ? 'past its expiry' : 'before its expiry');

function expectDecision(decision: Decision, action: Decision['action'], why?: RegExp) {
  expect(decision.action).to.equal(action);
  if (decision.action === 'refuse') expect(decision.why).to.match(why!);
}

describe('services/inventory/domain/reservations/reservation-rules', () => {
  describe('decideSettlement', () => {
    for (const [status, target, expired, action, why] of settlementTable) {
      it(`${verb[action]} ${target} for a reservation in ${status}, ${timing(expired)}`, () => {
        expectDecision(decideSettlement({ status, expiresAt: expired ? earlier : later }, target, now), action, why);
      });
    }

    it('treats a reservation expiring exactly now as expired when committing', () => {
      expectDecision(decideSettlement({ status: 'RESERVED', expiresAt: new Date(now) }, 'COMMITTED', now), 'refuse', /it expired/);
      expectDecision(decideSettlement({ status: 'RESERVED', expiresAt: new Date(now.getTime() + 1) }, 'COMMITTED', now), 'apply');
    });
  });

  describe('decideExtension', () => {
    for (const [status, expired, action, why] of extensionTable) {
      it(`${verb[action]} extending a reservation in ${status}, ${timing(expired)}`, () => {
        expectDecision(decideExtension({ status, expiresAt: expired ? earlier : later }, now), action, why);
      });
    }

    it('treats a reservation expiring exactly now as expired', () => {
      expectDecision(decideExtension({ status: 'RESERVED', expiresAt: new Date(now) }, now), 'refuse', /it expired/);
    });
  });

  describe('refusal', () => {
    it('is a failed precondition naming the order, the verb, the reason and the status', () => {
      const error = refusal('order-1', 'commit', 'it is released', 'RELEASED');
      expect(error.kind).to.equal('failedPrecondition');
      expect(error.reason).to.equal('ILLEGAL_RESERVATION_TRANSITION');
      expect(error.message).to.equal('cannot commit the reservation of order order-1: it is released');
      expect(error.metadata).to.deep.equal({ order_id: 'order-1', status: 'RELEASED' });
    });
  });
});
