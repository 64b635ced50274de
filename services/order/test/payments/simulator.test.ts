import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import knexFactory from 'knex';
import { createTestDatabase, type TestDatabase } from '#test/support/test-database.js';
import type { Clock } from '#libs/timers/clock.js';
import type { Money } from '#libs/money/money.js';
import type { Random } from '../../domain/types.js';
import { orderMigrations } from '../../migrations/index.js';
import type { PaymentGateway } from '../../domain/payment-port.js';
import { createPaymentSimulator, type PaymentSimulatorOptions } from '../../payments/simulator.js';
import { seededRandom } from '#test/support/seeded-random.js';

const NOW = new Date('2030-01-02T03:04:05.000Z');
const AMOUNT: Money = { currencyCode: 'EUR', minorUnits: 12_345 };
const TIMEOUT_MS = 2_000;

interface ChargeRow {
  order_id: string;
  amount_minor: number;
  currency_code: string;
  token: string;
  status: string;
  created_at: Date;
  refunded_at: Date | null;
}

describe('payment simulator', function () {
  this.timeout(30_000);
  let database: TestDatabase;

  before(async () => {
    database = await createTestDatabase('payments', orderMigrations);
  });
  after(async () => database?.drop());

  /** A simulator with a fake sleep (resolves at once, records what was asked) and a fixed clock. */
  function simulator(overrides: Partial<PaymentSimulatorOptions> = {}): { gateway: PaymentGateway; slept: number[]; clock: Clock } {
    const slept: number[] = [];
    let now = NOW;
    const clock: Clock = { now: () => now };
    const gateway = createPaymentSimulator({
      db: database.db,
      clock,
      random: seededRandom(42),
      latencyMs: 0,
      declineRate: 0,
      unavailableRate: 0,
      timeoutRate: 0,
      sleep: async (ms) => {
        slept.push(ms);
        now = new Date(now.getTime() + ms);
      },
      ...overrides,
    });
    return { gateway, slept, clock };
  }

  const rowsOf = (orderId: string): Promise<ChargeRow[]> => database.db('simulated_charges').where({ order_id: orderId }).select('*');
  const chargeIdOf = (orderId: string) => `ch_${orderId.replace(/-/g, '')}`;
  const charge = (gateway: PaymentGateway, orderId: string, token: string, timeoutMs = TIMEOUT_MS) =>
    gateway.charge({ orderId, amount: AMOUNT, token }, timeoutMs);

  describe('test tokens', () => {
    it('tok_ok captures once when charged 10 times concurrently', async () => {
      const { gateway, slept } = simulator({ latencyMs: 500 });
      const orderId = randomUUID();
      const outcomes = await Promise.all(Array.from({ length: 10 }, () => charge(gateway, orderId, 'tok_ok')));
      for (const outcome of outcomes) expect(outcome).to.deep.equal({ kind: 'captured', chargeId: chargeIdOf(orderId) });
      const rows = await rowsOf(orderId);
      expect(rows).to.have.length(1);
      expect(rows[0]).to.deep.include({
        amount_minor: 12_345,
        currency_code: 'EUR',
        token: 'tok_ok',
        status: 'captured',
        refunded_at: null,
      });
      expect(rows[0]!.created_at.toISOString()).to.equal(NOW.toISOString());
      expect(await gateway.lookup(orderId)).to.deep.equal({ status: 'captured', chargeId: chargeIdOf(orderId) });
      expect(slept, 'test tokens answer without simulated latency').to.deep.equal([]);
    });

    it('tok_decline declines, is recorded, and a retry stays declined', async () => {
      const { gateway } = simulator();
      const orderId = randomUUID();
      expect(await charge(gateway, orderId, 'tok_decline')).to.deep.equal({ kind: 'declined', reason: 'card declined' });
      expect(await charge(gateway, orderId, 'tok_decline')).to.deep.equal({ kind: 'declined', reason: 'card declined' });
      // Even a retry with a good token: the order's charge was declined.
      expect(await charge(gateway, orderId, 'tok_ok')).to.deep.equal({ kind: 'declined', reason: 'card declined' });
      const rows = await rowsOf(orderId);
      expect(rows.map((row) => row.status)).to.deep.equal(['declined']);
      expect(await gateway.lookup(orderId)).to.deep.equal({ status: 'declined' });
    });

    it('tok_unavailable answers unavailable and records nothing', async () => {
      const { gateway, slept } = simulator();
      const orderId = randomUUID();
      expect(await charge(gateway, orderId, 'tok_unavailable')).to.deep.equal({
        kind: 'unavailable',
        reason: 'payment gateway unavailable',
      });
      expect(await charge(gateway, orderId, 'tok_unavailable')).to.include({ kind: 'unavailable' });
      expect(await rowsOf(orderId)).to.deep.equal([]);
      expect(await gateway.lookup(orderId)).to.deep.equal({ status: 'none' });
      expect(slept).to.deep.equal([]);
    });

    it('tok_timeout records the capture, answers unknown after timeoutMs, and a retry returns the same capture', async () => {
      const { gateway, slept } = simulator();
      const orderId = randomUUID();
      const first = await charge(gateway, orderId, 'tok_timeout', 750);
      expect(first.kind).to.equal('unknown');
      expect(slept).to.deep.equal([750]);
      expect(await gateway.lookup(orderId)).to.deep.equal({ status: 'captured', chargeId: chargeIdOf(orderId) });

      expect(await charge(gateway, orderId, 'tok_timeout', 750)).to.deep.equal({ kind: 'captured', chargeId: chargeIdOf(orderId) });
      expect(slept, 'the replay answers at once').to.deep.equal([750]);
      const rows = await rowsOf(orderId);
      expect(rows).to.have.length(1);
      expect(rows[0]).to.include({ status: 'captured', token: 'tok_timeout' });
    });
  });

  describe('refund', () => {
    it('refunds a capture once; a repeat has nothing to refund', async () => {
      const { gateway } = simulator();
      const orderId = randomUUID();
      await charge(gateway, orderId, 'tok_ok');
      expect(await gateway.refund(orderId)).to.deep.equal({ kind: 'refunded' });
      expect(await gateway.refund(orderId)).to.deep.equal({ kind: 'nothing_to_refund' });
      const rows = await rowsOf(orderId);
      expect(rows).to.have.length(1);
      expect(rows[0]!.status).to.equal('refunded');
      expect(rows[0]!.refunded_at?.toISOString()).to.equal(NOW.toISOString());
      expect(await gateway.lookup(orderId)).to.deep.equal({ status: 'refunded' });
      // Charging a refunded order again does not take money again.
      expect(await charge(gateway, orderId, 'tok_ok')).to.deep.equal({ kind: 'declined', reason: 'already refunded' });
      expect(await rowsOf(orderId)).to.have.length(1);
    });

    it('concurrent refunds refund once', async () => {
      const { gateway } = simulator();
      const orderId = randomUUID();
      await charge(gateway, orderId, 'tok_ok');
      const results = await Promise.all(Array.from({ length: 10 }, () => gateway.refund(orderId)));
      expect(results.filter((r) => r.kind === 'refunded')).to.have.length(1);
      expect(results.filter((r) => r.kind === 'nothing_to_refund')).to.have.length(9);
      expect((await rowsOf(orderId)).map((row) => row.status)).to.deep.equal(['refunded']);
    });

    it('has nothing to refund for an uncharged or declined order', async () => {
      const { gateway } = simulator();
      expect(await gateway.refund(randomUUID())).to.deep.equal({ kind: 'nothing_to_refund' });
      const declined = randomUUID();
      await charge(gateway, declined, 'tok_decline');
      expect(await gateway.refund(declined)).to.deep.equal({ kind: 'nothing_to_refund' });
      expect((await rowsOf(declined)).map((row) => row.status)).to.deep.equal(['declined']);
    });
  });

  describe('random tokens', () => {
    const zero: Random = () => 0;

    it('times out when the timeout draw hits (and still records the capture)', async () => {
      const { gateway, slept } = simulator({ random: zero, timeoutRate: 0.5 });
      const orderId = randomUUID();
      expect((await charge(gateway, orderId, 'tok_visa_4242', 900)).kind).to.equal('unknown');
      expect(slept).to.deep.equal([900]);
      expect(await gateway.lookup(orderId)).to.deep.equal({ status: 'captured', chargeId: chargeIdOf(orderId) });
      // The dice say "timeout" again, but the order has a record: the retry answers from it.
      expect(await charge(gateway, orderId, 'tok_visa_4242', 900)).to.deep.equal({ kind: 'captured', chargeId: chargeIdOf(orderId) });
      expect(await rowsOf(orderId)).to.have.length(1);
    });

    it('is unavailable with unavailableRate 1 (nothing recorded)', async () => {
      const { gateway } = simulator({ random: zero, unavailableRate: 1 });
      const orderId = randomUUID();
      expect(await charge(gateway, orderId, 'tok_visa_4242')).to.include({ kind: 'unavailable' });
      expect(await rowsOf(orderId)).to.deep.equal([]);
    });

    it('answers from the record, not "unavailable", once an order was charged', async () => {
      const orderId = randomUUID();
      await charge(simulator().gateway, orderId, 'tok_visa_4242');
      const { gateway } = simulator({ random: zero, unavailableRate: 1 });
      expect(await charge(gateway, orderId, 'tok_visa_4242')).to.deep.equal({ kind: 'captured', chargeId: chargeIdOf(orderId) });
    });

    it('declines with declineRate 1 (recorded)', async () => {
      const { gateway } = simulator({ random: zero, declineRate: 1 });
      const orderId = randomUUID();
      expect(await charge(gateway, orderId, 'tok_visa_4242')).to.deep.equal({ kind: 'declined', reason: 'card declined' });
      expect((await rowsOf(orderId)).map((row) => row.status)).to.deep.equal(['declined']);
    });

    it('captures with all rates zero', async () => {
      const { gateway } = simulator({ random: zero });
      const orderId = randomUUID();
      expect(await charge(gateway, orderId, 'tok_visa_4242')).to.deep.equal({ kind: 'captured', chargeId: chargeIdOf(orderId) });
      const rows = await rowsOf(orderId);
      expect(rows).to.have.length(1);
      expect(rows[0]).to.include({ status: 'captured', token: 'tok_visa_4242', amount_minor: 12_345, currency_code: 'EUR' });
    });

    it('checks the knobs in order: timeout before unavailable before decline', async () => {
      const all = { random: zero, timeoutRate: 1, unavailableRate: 1, declineRate: 1 };
      expect((await charge(simulator(all).gateway, randomUUID(), 'tok_x')).kind).to.equal('unknown');
      expect((await charge(simulator({ ...all, timeoutRate: 0 }).gateway, randomUUID(), 'tok_x')).kind).to.equal('unavailable');
      expect((await charge(simulator({ ...all, timeoutRate: 0, unavailableRate: 0 }).gateway, randomUUID(), 'tok_x')).kind).to.equal(
        'declined',
      );
    });

    it('sleeps the simulated latency', async () => {
      const { gateway, slept } = simulator({ latencyMs: 40 });
      const orderId = randomUUID();
      expect(await charge(gateway, orderId, 'tok_visa_4242', 100)).to.deep.equal({ kind: 'captured', chargeId: chargeIdOf(orderId) });
      expect(slept).to.deep.equal([40]);
    });

    it('with latency >= timeoutMs answers unknown after timeoutMs, having recorded the capture', async () => {
      const { gateway, slept } = simulator({ latencyMs: 150 });
      const orderId = randomUUID();
      expect((await charge(gateway, orderId, 'tok_visa_4242', 100)).kind).to.equal('unknown');
      expect(slept).to.deep.equal([100]);
      expect(await gateway.lookup(orderId)).to.deep.equal({ status: 'captured', chargeId: chargeIdOf(orderId) });
      expect((await charge(gateway, orderId, 'tok_visa_4242', 200)).kind).to.equal('captured');
      expect(await rowsOf(orderId)).to.have.length(1);
    });

    it('keeps its books consistent with its answers over a seeded random run', async () => {
      const { gateway } = simulator({ random: seededRandom(7), timeoutRate: 0.2, unavailableRate: 0.2, declineRate: 0.2, latencyMs: 10 });
      const orders = Array.from({ length: 60 }, () => randomUUID());
      const outcomes = await Promise.all(orders.map((orderId) => charge(gateway, orderId, 'tok_random', 100)));
      const kinds = new Set(outcomes.map((outcome) => outcome.kind));
      expect([...kinds].sort()).to.deep.equal(['captured', 'declined', 'unavailable', 'unknown']);
      for (const [i, orderId] of orders.entries()) {
        const statuses = (await rowsOf(orderId)).map((row) => row.status);
        const expected = { captured: ['captured'], unknown: ['captured'], declined: ['declined'], unavailable: [] }[outcomes[i]!.kind];
        expect(statuses, `${outcomes[i]!.kind} for order ${i}`).to.deep.equal(expected);
      }
    });
  });

  describe('bad input and failures', () => {
    const quiet = { warn: () => undefined, error: () => undefined, deprecate: () => undefined, debug: () => undefined };

    it('declines malformed requests without recording them', async () => {
      const { gateway } = simulator();
      const orderId = randomUUID();
      expect(await gateway.charge({ orderId, amount: AMOUNT, token: '' }, TIMEOUT_MS)).to.deep.equal({
        kind: 'declined',
        reason: 'missing payment token',
      });
      expect(await gateway.charge({ orderId, amount: { currencyCode: 'EUR', minorUnits: -1 }, token: 'tok_ok' }, TIMEOUT_MS)).to.include({
        kind: 'declined',
      });
      expect(await gateway.charge({ orderId, amount: { currencyCode: 'euro', minorUnits: 1 }, token: 'tok_ok' }, TIMEOUT_MS)).to.include({
        kind: 'declined',
      });
      expect(await rowsOf(orderId)).to.deep.equal([]);
    });

    it('throws on an order id that is not a UUID', async () => {
      const { gateway } = simulator();
      for (const call of [() => charge(gateway, 'order-1', 'tok_ok'), () => gateway.lookup('order-1'), () => gateway.refund('order-1')]) {
        let error: unknown;
        await call().catch((e: unknown) => (error = e));
        expect(error).to.be.instanceOf(TypeError);
      }
    });

    it('refuses rates outside [0, 1] and negative latency', () => {
      expect(() => simulator({ declineRate: 1.5 })).to.throw(RangeError, /declineRate/);
      expect(() => simulator({ timeoutRate: Number.NaN })).to.throw(RangeError, /timeoutRate/);
      expect(() => simulator({ latencyMs: -1 })).to.throw(RangeError, /latencyMs/);
    });

    it('answers unknown / unavailable when its database is unreachable', async () => {
      const db = knexFactory({
        client: 'pg',
        connection: 'postgres://postgres@127.0.0.1:1/none',
        pool: { min: 0, max: 1 },
        acquireConnectionTimeout: 500,
        log: quiet,
      });
      try {
        const { gateway } = simulator({ db });
        const orderId = randomUUID();
        expect((await charge(gateway, orderId, 'tok_ok')).kind).to.equal('unknown');
        expect(await gateway.lookup(orderId)).to.deep.equal({ status: 'unavailable' });
        expect((await gateway.refund(orderId)).kind).to.equal('unavailable');
      } finally {
        await db.destroy();
      }
    });
  });
});
