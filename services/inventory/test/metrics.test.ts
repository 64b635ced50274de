import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { eventually } from '#test/support/eventually.js';
import { outcomeOf } from '#test/support/grpc-errors.js';
import { metricDelta, metricValue, scrapeMetrics } from '#test/support/scrape.js';
import { createTestProduct, startTestInventory, type TestInventory } from './harness.js';

describe('inventory metrics', function () {
  this.timeout(30_000);
  let inv: TestInventory;
  before(async () => {
    inv = await startTestInventory();
  });
  after(async () => inv?.stop());

  it('count RPCs, reservations by outcome and expose outbox, pool and consumer gauges', async () => {
    const port = inv.running.runtime.metricsPort;
    const before = await scrapeMetrics(port);
    const product = await createTestProduct(inv.api, { initialStock: 2 });
    const outcomes = await Promise.all(
      Array.from({ length: 5 }, () =>
        outcomeOf(inv.api.reserveStock({ orderId: randomUUID(), items: [{ productId: product.id, quantity: 1 }] })),
      ),
    );
    expect(outcomes.filter((o) => o === 'OK')).to.have.length(2);
    await outcomeOf(inv.api.reserveStock({ orderId: 'not-a-uuid', items: [] }));

    const after = await scrapeMetrics(port);
    const reserve = 'method="/larder.inventory.v1.InventoryService/ReserveStock"';
    const delta = (name: string, ...labels: string[]) => metricDelta(before, after, name, ...labels);
    expect(delta('larder_rpc_total', reserve, 'code="OK"')).to.equal(2);
    expect(delta('larder_rpc_total', reserve, 'code="FAILED_PRECONDITION"')).to.equal(3);
    expect(delta('larder_rpc_total', reserve, 'code="INVALID_ARGUMENT"')).to.equal(1);
    expect(delta('larder_rpc_duration_seconds_count', reserve)).to.equal(6);
    expect(delta('larder_reservations_total', 'outcome="reserved"')).to.equal(2);
    expect(delta('larder_reservations_total', 'outcome="insufficient_stock"')).to.equal(3);
    for (const gauge of [
      'larder_outbox_backlog',
      'larder_outbox_oldest_unpublished_seconds',
      'larder_db_pool_in_use',
      'larder_invariant_violations',
    ]) {
      expect(
        [...after.keys()].some((k) => k.startsWith(gauge)),
        gauge,
      ).to.equal(true);
    }
    expect(metricValue(after, 'larder_invariant_violations')).to.equal(0);
  });

  it('count live products at or below their low-stock threshold (the low-stock alert) as stock moves', async () => {
    const port = inv.running.runtime.metricsPort;
    const lowNow = async () => metricValue(await scrapeMetrics(port), 'larder_products_low_stock');
    const start = await lowNow();
    const product = await createTestProduct(inv.api, { initialStock: 10, lowStockThreshold: 4 });
    await createTestProduct(inv.api, { initialStock: 0 }); // no threshold: never low
    await inv.api.reserveStock({ orderId: randomUUID(), items: [{ productId: product.id, quantity: 6 }] });
    await eventually('the product at its threshold is counted', async () =>
      (await lowNow()) === start + 1 ? true : `saw ${await lowNow()}`,
    );
    await inv.api.deleteProduct({ id: product.id });
    await eventually('a deleted product is not', async () => ((await lowNow()) === start ? true : `saw ${await lowNow()}`));
  });
});
