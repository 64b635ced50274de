import { expect } from 'chai';
import { pino } from 'pino';
import { capturePlans, type PlanCapture } from '#test/support/plan-capture.js';
import { ensureStream } from '../streams.js';
import { createOutboxRelay } from '../relay.js';
import { relayFixture } from './relay-fixture.js';
import { uniqueToken } from './helpers.js';

const PUBLISHED_ROWS = 20_000;

/**
 * The relay marks a batch published by ids passed as jsonb, which the planner
 * assumes is 100 rows. As a join that was a hash join over a sequential scan of
 * the whole outbox (published rows stay for the retention period: 7 days);
 * as an index condition it reads the batch's rows only.
 */
describe('outbox relay statement plans with 20,000 published rows', function () {
  this.timeout(60_000);
  const fixture = relayFixture('relay_plans');
  let capture: PlanCapture | undefined;
  afterEach(async () => capture?.destroy());

  it('claims and marks a batch by index, with custom and generic plans', async () => {
    const token = uniqueToken();
    await ensureStream(fixture.nc, { name: `PLANS_${token}`, subjects: [`plans${token}.>`] });
    await fixture.db.raw(
      `insert into outbox (id, subject, event_type, payload, published_at)
       select gen_random_uuid(), 'old', 'x', '\\x00'::bytea, now() - interval '1 hour' from generate_series(1, ?)`,
      [PUBLISHED_ROWS],
    );
    await fixture.db.raw('analyze outbox');
    capture = await capturePlans(fixture.db.client.config.connection.connectionString as string);
    const relay = createOutboxRelay({ db: capture.db, nats: fixture.nc, logger: pino({ level: 'silent' }), batchSize: 8 });
    // More than five rounds: the prepared statements move to their generic plans.
    for (let round = 0; round < 8; round++) {
      await fixture.append(`plans${token}.thing`, 8);
      expect(await relay.relayOnce()).to.equal(8);
    }
    expect(
      capture.plans.filter((plan) => /update outbox as o/.test(plan)),
      'every mark was planned',
    ).to.have.length.at.least(8);
    expect(capture.seqScannedTables()).to.deep.equal([]);
    const unpublished = await fixture.db('outbox').whereNull('published_at').count({ n: '*' }).first();
    expect(Number(unpublished!.n)).to.equal(0);
  });
});
