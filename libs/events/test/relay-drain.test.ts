import { expect } from 'chai';
import type { NatsConnection } from 'nats';
import { startThrowawayNatsServer, type ThrowawayNatsServer } from '#test/support/nats-server.js';
import { ensureStream } from '../streams.js';
import { connectNats, messageIds, readStream, uniqueToken, waitFor } from './helpers.js';
import { relayFixture } from './relay-fixture.js';
import { CLAIM_SQL, statementTimes } from './relay-probes.js';

/**
 * A graceful stop publishes what is committed (drainMs, OUTBOX_DRAIN_MS): a
 * stop right after a write leaves nothing unpublished while the broker
 * answers, and ends within drainMs when it does not.
 */
describe('outbox relay: stop() drains what is committed, within drainMs', function () {
  this.timeout(30_000);

  const fx = relayFixture('relay_drain');
  const { newRelay } = fx;
  let prefix: string;
  let streamName: string;

  before(async () => {
    const token = uniqueToken();
    prefix = `rdrain${token}`;
    streamName = `RDRAIN_${token}`;
    await ensureStream(fx.nc, { name: streamName, subjects: [`${prefix}.>`] });
  });
  const unpublished = async () => (await fx.db('outbox').whereNull('published_at')).length;

  /** A relay whose loop has run its first (empty) round and will not run another by itself for a minute. */
  async function idleRelay(options: Parameters<typeof newRelay>[0] = {}) {
    const claims = statementTimes(fx.db, CLAIM_SQL);
    const relay = newRelay({ pollIntervalMs: 60_000, roundSpacingMs: 60_000, ...options });
    relay.start();
    await waitFor('the first round', () => claims.times.length === 1);
    return { relay, claims };
  }

  it('a stop right after a commit publishes it (no wake, no poll due): nothing is left unpublished', async () => {
    const { relay, claims } = await idleRelay();
    const events = await fx.append(`${prefix}.one`, 3);
    await relay.stop();
    claims.stop();
    expect(await unpublished(), 'unpublished after the stop').to.equal(0);
    const inStream = new Set(messageIds(await readStream(fx.nc, streamName)));
    for (const event of events) expect(inStream.has(event.id), `event ${event.id} in the stream`).to.equal(true);
    expect(relay.stats().published).to.equal(3);
  });

  it('drains more than one batch, round after round', async () => {
    const { relay, claims } = await idleRelay({ batchSize: 2 });
    await fx.append(`${prefix}.many`, 5);
    await relay.stop();
    claims.stop();
    expect(await unpublished()).to.equal(0);
    expect(claims.times.length, 'rounds: the first, then 2 + 2 + 1 rows').to.equal(4);
  });

  it('drainMs 0: the stop publishes nothing more', async () => {
    const { relay, claims } = await idleRelay({ drainMs: 0 });
    await fx.append(`${prefix}.none`, 2);
    await relay.stop();
    claims.stop();
    expect(claims.times).to.have.length(1);
    expect(await unpublished()).to.equal(2);
  });

  describe('with the broker down', () => {
    let nats: ThrowawayNatsServer;
    let nc: NatsConnection;
    before(async () => {
      // A broker of this test's own: stopping it leaves the run's shared one alone.
      nats = await startThrowawayNatsServer();
      nc = await connectNats(nats.url);
      await ensureStream(nc, { name: streamName, subjects: [`${prefix}.>`] });
    });
    after(async () => {
      await nc?.close();
      await nats?.destroy();
    });

    it('the stop ends within drainMs although no PubAck comes, and the rows stay for the next relay', async () => {
      const drainMs = 500;
      // Without the drain bound, a publish would wait its 5 s PubAck timeout.
      const { relay, claims } = await idleRelay({ nats: nc, drainMs, publishTimeoutMs: 5_000, roundSpacingMs: 0 });
      await nats.stop();
      await fx.append(`${prefix}.down`, 3);
      relay.wake();
      // A round under way at the stop, waiting for its PubAcks, as right after a commit.
      await waitFor('the woken round', () => claims.times.length === 2);
      claims.stop();
      const started = performance.now();
      await relay.stop();
      const stopMs = performance.now() - started;
      expect(stopMs, 'how long the stop took (ms)').to.be.below(drainMs + 1_000);
      expect(await unpublished(), 'rows left for the next relay').to.equal(3);
      const attempts: number[] = await fx.db('outbox').pluck('publish_attempts');
      for (const n of attempts) expect(n, 'each unanswered publish counted as an attempt').to.be.at.most(1);
    });
  });
});
