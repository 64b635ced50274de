import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expect } from 'chai';
import { ensureStream } from '../streams.js';
import { uniqueToken, waitFor } from './helpers.js';
import { relayFixture } from './relay-fixture.js';

/**
 * A running relay keeps nothing per published row. The drain on stop() once cut
 * its PubAck waits short by hanging a reaction per row on a promise that lives as
 * long as the relay; every published row's outcome then stayed reachable, and the
 * bench's inventory grew by ~90 MB of peak RSS over 30,000 reservations. Measured
 * here as the heap after a full collection, before and after 20,000 rows.
 */
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const ROWS = 20_000;
/** Per row, what the leak held (a few promises and an outcome) was ~0.6 KB; 20,000 rows → ~12 MB. */
const ALLOWED_GROWTH_MB = 4;

function heapAfterCollection(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

describe('outbox relay: memory while it runs', function () {
  this.timeout(120_000);
  const fx = relayFixture('relay_memory');

  it(`keeps nothing per published row (${ROWS} rows: heap after a full collection grows < ${ALLOWED_GROWTH_MB} MB)`, async () => {
    const token = uniqueToken();
    const prefix = `rmem${token}`;
    await ensureStream(fx.nc, { name: `RMEM_${token}`, subjects: [`${prefix}.>`] });
    const relay = fx.newRelay({ pollIntervalMs: 20 });
    relay.start();
    try {
      // Warm up: code paths compiled, pools and buffers at their working size.
      await fx.append(`${prefix}.warm`, 2_000);
      await waitFor('the warm-up published', () => relay.stats().published >= 2_000, { timeoutMs: 60_000 });
      const before = heapAfterCollection();
      for (let sent = 0; sent < ROWS; sent += 5_000) await fx.append(`${prefix}.rows`, 5_000);
      await waitFor(`${ROWS} rows published`, () => relay.stats().published >= 2_000 + ROWS, { timeoutMs: 90_000 });
      const growth = heapAfterCollection() - before;
      console.log(`      heap after ${ROWS} published rows: ${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MB`);
      expect(growth, 'MB the heap grew').to.be.below(ALLOWED_GROWTH_MB);
    } finally {
      await relay.stop();
    }
  });
});
