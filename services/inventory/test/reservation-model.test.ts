import fc from 'fast-check';
import { expect } from 'chai';
import { performance } from 'node:perf_hooks';
import { createTestDatabase } from '#test/support/test-database.js';
import { databaseName } from '#libs/db/admin.js';
import { findInvariantViolations } from '../data/invariants.js';
import { inventoryMigrations } from '../migrations/index.js';
import { manualClock, startTestInventory, type TestInventory } from './harness.js';
import { defaultPlace, insertPlace } from './locations/stock-places.js';
import { scenarios } from './model/operations.js';
import { DEFAULT_TTL_MS, runScenario } from './model/run-scenario.js';

/**
 * Sequences per run. The default suits `npm test` (CI: about a minute); the
 * soak, `npm run test:soak`, runs 10,000 (about 13 minutes on 2 cores).
 */
const RUNS = Number(process.env.MODEL_RUNS ?? 1_000);
const SEED = Number(process.env.MODEL_SEED ?? Date.now() % 2 ** 31);
const PATH = process.env.MODEL_PATH;

/**
 * Model-based test of the reservation state machine, per (product, location):
 * random sequences of ReserveStock (anywhere, pinned, routed single or split),
 * CommitReservation, ReleaseReservation, ExtendReservation,
 * AdjustStock, clock ticks and expiry sweeps — with repeats and concurrent
 * pairs — against the real service over gRPC, each answer and the final state
 * compared with the reference model (model/reservation-model.ts). The service
 * runs in-process on its own database with a clock the test moves; its
 * periodic sweeper is idle (an hour apart) and the test runs the sweep itself,
 * as that job does. The seed is printed on every run: MODEL_SEED (and
 * MODEL_PATH from a failure's report) replay it, with the same MODEL_RUNS or
 * more (a seed's first sequences are the same whatever the count).
 */
describe('reservation state machine, against its model', function () {
  this.timeout(900_000);
  const clock = manualClock();
  let inv: TestInventory;
  /** The model's locations (MODEL_LOCATIONS) by index: the default one and two dark stores. */
  let locations: string[];
  before(async () => {
    const database = await createTestDatabase('inventory', inventoryMigrations);
    // Its own database only: commits need not wait for the WAL flush (what a crash would lose is
    // of no interest here), which halves the wall time of the thousands of sequences.
    await database.db.raw(`alter database ${databaseName(database.url)} set synchronous_commit = off`);
    locations = [await defaultPlace(database.db)];
    // model-a near d0 and delivering to "1…"; model-b near d1, delivering to "2…", with the higher priority.
    locations.push(await insertPlace(database.db, { code: 'model-a', prefixes: ['1'], latitude: 52.52, longitude: 13.4 }));
    locations.push(await insertPlace(database.db, { code: 'model-b', prefixes: ['2'], priority: 5, latitude: 52.4, longitude: 13.1 }));
    inv = await startTestInventory({
      clock,
      database,
      // No broker (port 1 never answers NATS): the outbox keeps the events, as in any outage, and
      // the relay's publishing, which the model does not look at, does not take the CPU the calls need.
      natsUrl: 'nats://127.0.0.1:1',
      env: { SWEEP_INTERVAL_MS: '3600000', RESERVATION_TTL_MS: String(DEFAULT_TTL_MS) },
    });
  });
  after(async () => inv?.stop());

  it(`answers like the model over ${RUNS} random sequences of calls`, async () => {
    const started = performance.now();
    let runs = 0;
    const property = fc.asyncProperty(scenarios, async (scenario) => {
      runs += 1;
      await runScenario(inv, clock, locations, scenario);
    });
    try {
      await fc.assert(property, { numRuns: RUNS, seed: SEED, ...(PATH && { path: PATH }) });
    } finally {
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      console.log(`      reservation model: ${runs} runs (MODEL_RUNS=${RUNS} MODEL_SEED=${SEED}) in ${seconds} s`);
    }
    expect(await findInvariantViolations(inv.db)).to.deep.equal([]);
  });
});
