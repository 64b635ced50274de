import { expect } from 'chai';
import { delay } from '#test/support/free-port.js';
import { eventually } from '#test/support/eventually.js';
import { startThrowawayNatsServer, type ThrowawayNatsServer } from '#test/support/nats-server.js';
import { metricValue, scrapeMetrics } from '#test/support/scrape.js';
import { createTestProduct } from './harness.js';
import { hammer, startTwoReplicas, worstStaleness, type TwoReplicas } from './catalog-cache-support.js';

/**
 * While B cannot hear invalidations (its broker is down), it serves an entry
 * for at most CATALOG_CACHE_FALLBACK_TTL_MS after it was stored, so a change
 * through A goes stale on B for at most that long; once NATS is back, B drops
 * everything it held and serves the current version.
 */
const FALLBACK_TTL_MS = 500;

describe('catalog cache while NATS is down (a throwaway broker)', function () {
  this.timeout(120_000);
  let nats: ThrowawayNatsServer;
  let replicas: TwoReplicas;

  before(async () => {
    nats = await startThrowawayNatsServer();
    replicas = await startTwoReplicas({ natsUrl: nats.url, env: { CATALOG_CACHE_FALLBACK_TTL_MS: String(FALLBACK_TTL_MS) } });
  });
  after(async () => {
    await replicas?.stop();
    await nats?.destroy();
  });

  const receiving = (replica: TwoReplicas['b']) => replica.running.deps.catalogCache!.entries.isReceiving;
  const metricsOf = (replica: TwoReplicas['b']) => scrapeMetrics(replica.running.runtime.metricsPort);

  it('B goes stale for at most the fallback TTL while NATS is down, says so in its metrics, and serves fresh data once NATS is back', async () => {
    const { a, b } = replicas;
    await eventually('B to hear invalidations', () => receiving(b) || 'not yet');
    const product = await createTestProduct(a.api, { name: 'v0' });
    await b.api.getProduct({ id: product.id, showDeleted: false });
    // On a busy machine the product's event may arrive later than the fallback TTL: B then keeps to it that long.
    await eventually('the gauge to say B hears invalidations', async () => {
      const gauge = metricValue(await metricsOf(b), 'larder_catalog_cache_receiving_invalidations');
      return gauge === 1 || `gauge ${gauge}`;
    });

    await nats.stop();
    await eventually('B to notice it cannot hear invalidations', () => !receiving(b) || 'still receiving');
    const scraped = await metricsOf(b);
    expect(metricValue(scraped, 'larder_catalog_cache_receiving_invalidations')).to.equal(0);
    expect(metricValue(scraped, 'larder_catalog_cache_fallbacks_total', 'reason="disconnected"')).to.be.greaterThan(0);

    const committed = new Map<number, number>();
    let finished = false;
    const reads = hammer(
      8,
      60_000,
      () => finished,
      async () => (await b.api.getProduct({ id: product.id, showDeleted: false })).product,
    );
    let etag = Number(product.etag);
    for (let i = 1; i <= 20; i++) {
      const { product: updated } = await a.api.updateProduct({ product: { id: product.id, name: `v${i}` }, updateMask: ['name'] });
      etag = Number(updated!.etag);
      committed.set(etag, performance.now());
      await delay(50);
    }
    await delay(FALLBACK_TTL_MS + 100);
    finished = true;
    const seen = await reads;
    const worst = worstStaleness(committed, seen);
    console.log(
      `      (B: ${seen.length} reads with NATS down, worst staleness ${worst.toFixed(1)} ms after A's answer; fallback TTL ${FALLBACK_TTL_MS} ms)`,
    );
    // Exact: an entry counts its age from when its read began, so no slack is needed.
    expect(worst).to.be.at.most(FALLBACK_TTL_MS);
    expect(seen.some((r) => r.etag < etag)).to.equal(true, 'B served some reads from its cache, older versions included');

    await nats.start();
    // A's relay publishes what it held; those events arrive late, and B keeps to its short TTL a moment longer.
    await eventually(
      'A to publish the events it held',
      async () => {
        const [{ count }] = await a.db('outbox').whereNull('published_at').count<{ count: string }[]>('* as count');
        return Number(count) === 0 || `${count} unpublished`;
      },
      { timeoutMs: 20_000 },
    );
    await eventually(
      'B to hear invalidations again',
      async () => {
        const gauge = metricValue(await metricsOf(b), 'larder_catalog_cache_receiving_invalidations');
        return (receiving(b) && gauge === 1) || `receiving ${receiving(b)}, gauge ${gauge}`;
      },
      { timeoutMs: 20_000 },
    );
    expect(Number((await b.api.getProduct({ id: product.id, showDeleted: false })).product!.etag)).to.equal(etag);
    // And invalidations flow again: a change through A reaches B.
    const { product: after } = await a.api.updateProduct({ product: { id: product.id, name: 'after' }, updateMask: ['name'] });
    await eventually(
      "B to serve A's change made after NATS came back",
      async () => (await b.api.getProduct({ id: product.id, showDeleted: false })).product!.etag === after!.etag || 'old version',
      { timeoutMs: 5_000, intervalMs: 10 },
    );
  });

  it('after reconnecting, B drops what it held: a change whose event it never hears is not served', async () => {
    const { a, b } = replicas;
    await eventually('B to hear invalidations', () => receiving(b) || 'not yet');
    const product = await createTestProduct(a.api, { name: 'before the outage' });
    await eventually('B to cache the product', async () => {
      await b.api.getProduct({ id: product.id, showDeleted: false });
      return b.running.deps.catalogCache!.product(product.id) !== undefined || 'not cached';
    });
    await nats.stop();
    await eventually('B to notice it cannot hear invalidations', () => !receiving(b) || 'still receiving');
    // A change B will never hear of (as when it was cut off from its NATS node while the others were not).
    await a
      .db('products')
      .where({ id: product.id })
      .update({ name: 'changed unheard', version: a.db.raw('version + 1') });
    await nats.start();
    await eventually('B to hear invalidations again', () => receiving(b) || 'not yet', { timeoutMs: 20_000 });
    expect((await b.api.getProduct({ id: product.id, showDeleted: false })).product!.name).to.equal('changed unheard');
  });
});
