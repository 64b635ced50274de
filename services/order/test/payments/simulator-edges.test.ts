import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { withDatabase } from '#libs/db/admin.js';
import { createDatabase } from '#libs/db/knex.js';
import { createTestDatabase, TEST_DATABASE_SERVER, type TestDatabase } from '#test/support/test-database.js';
import { orderMigrations } from '../../migrations/index.js';
import { createPaymentSimulator, type PaymentSimulatorOptions } from '../../payments/simulator.js';

/**
 * The simulator's edges that simulator.test.ts leaves open, found by mutation
 * testing: exact boundaries (latency equal to the timeout, amount 0, currency
 * codes of 4 letters, negative rates) and the exact reasons it answers with.
 */
describe('payment simulator: boundaries and reasons', function () {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase('payments_edges', orderMigrations);
  });
  after(async () => database?.drop());

  const EUR = { currencyCode: 'EUR', minorUnits: 1_000 };
  /** Rates all 0 and a sleep that only notes what it was asked. */
  function gatewayWith(options: Partial<PaymentSimulatorOptions> = {}) {
    const slept: number[] = [];
    const gateway = createPaymentSimulator({
      db: database.db,
      clock: { now: () => new Date('2030-01-01T00:00:00Z') },
      random: () => 0.5,
      ...{ latencyMs: 0, declineRate: 0, unavailableRate: 0, timeoutRate: 0 },
      sleep: async (ms) => {
        slept.push(ms);
      },
      ...options,
    });
    return { gateway, slept };
  }

  it('latency exactly equal to the timeout is a timeout: unknown, after waiting the timeout', async () => {
    const { gateway, slept } = gatewayWith({ latencyMs: 500 });
    const outcome = await gateway.charge({ orderId: randomUUID(), amount: EUR, token: 'tok_visa' }, 500);
    expect(outcome).to.deep.equal({ kind: 'unknown', reason: 'payment gateway did not answer within 500 ms' });
    expect(slept).to.deep.equal([500]);
  });

  it('latency just under the timeout answers, after the latency', async () => {
    const { gateway, slept } = gatewayWith({ latencyMs: 499 });
    const orderId = randomUUID();
    const outcome = await gateway.charge({ orderId, amount: EUR, token: 'tok_visa' }, 500);
    expect(outcome.kind).to.equal('captured');
    expect(slept).to.deep.equal([499]);
  });

  it('an amount of 0 is valid; a negative one is not', async () => {
    const { gateway } = gatewayWith();
    expect(
      (await gateway.charge({ orderId: randomUUID(), amount: { currencyCode: 'EUR', minorUnits: 0 }, token: 'tok_visa' }, 500)).kind,
    ).to.equal('captured');
    expect(
      await gateway.charge({ orderId: randomUUID(), amount: { currencyCode: 'EUR', minorUnits: -1 }, token: 'tok_visa' }, 500),
    ).to.deep.equal({
      kind: 'declined',
      reason: 'invalid amount -1',
    });
  });

  for (const code of ['EURO', 'XEUR', 'eur']) {
    it(`currency "${code}" is not a three-letter code: declined`, async () => {
      const { gateway } = gatewayWith();
      expect(
        await gateway.charge({ orderId: randomUUID(), amount: { currencyCode: code, minorUnits: 1 }, token: 'tok_visa' }, 500),
      ).to.deep.equal({
        kind: 'declined',
        reason: `invalid currency ${JSON.stringify(code)}`,
      });
    });
  }

  it('refuses a negative rate for every knob, naming it and the value; 0 and 1 are fine', () => {
    for (const knob of ['declineRate', 'unavailableRate', 'timeoutRate'] as const) {
      expect(() => gatewayWith({ [knob]: -0.1 })).to.throw(RangeError, `${knob} must be within [0, 1], got -0.1`);
      expect(() => gatewayWith({ [knob]: 0 })).not.to.throw();
      expect(() => gatewayWith({ [knob]: 1 })).not.to.throw();
    }
    expect(() => gatewayWith({ latencyMs: Number.POSITIVE_INFINITY })).to.throw(RangeError, 'latencyMs must be >= 0, got Infinity');
  });

  it('names the bad order id it refuses', async () => {
    const { gateway } = gatewayWith();
    const error = await gateway.lookup('order-1').then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error).to.be.instanceOf(TypeError);
    expect(error!.message).to.equal('payment simulator: order id must be a UUID, got "order-1"');
  });

  it('a database failure is reported with its message: unknown for a charge, unavailable for a refund', async () => {
    const missing = createDatabase({ url: withDatabase(TEST_DATABASE_SERVER, `payments_missing_${Date.now().toString(36)}`), poolMax: 1 });
    try {
      const { gateway } = gatewayWith({ db: missing });
      const charged = await gateway.charge({ orderId: randomUUID(), amount: EUR, token: 'tok_visa' }, 500);
      const refunded = await gateway.refund(randomUUID());
      for (const answer of [charged, refunded]) {
        expect('reason' in answer && answer.reason).to.match(/^payment gateway failed: database "payments_missing_\w+" does not exist$/);
      }
      expect(charged.kind).to.equal('unknown');
      expect(refunded.kind).to.equal('unavailable');
    } finally {
      await missing.destroy();
    }
  });
});
