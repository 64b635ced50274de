import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { ServiceMetrics } from '#libs/metrics/service-metrics.js';
import { capturingLogger } from '#test/support/capturing-logger.js';
import { claimOrder } from '../../data/orders.js';
import { placeOrder } from '../../domain/place-order.js';
import { orderObserver } from '../../metrics.js';
import { advanceOrder } from '../../saga/advance-order.js';
import { EUR, NOW, PRODUCT_A, SETTINGS, useSagaHarness } from './saga-harness.js';

/**
 * Checkout and CreateOrder reserve inline; when that step fails, the caller
 * still gets its order, and the failure is logged (with the request's
 * correlation id and the order id) and counted, never swallowed. The order is
 * left for the worker once the step's lease lapses.
 */

describe('placeOrder: a failed inline step', function () {
  const h = useSagaHarness();

  it('is logged with correlation and order id, counted, and leaves the order to the worker', async () => {
    const metrics = new ServiceMetrics('larder-order-test');
    const { logger, lines } = capturingLogger();
    // A deterministic failure of the inline step: its advance throws.
    h.deps = {
      ...h.deps,
      observer: orderObserver(metrics),
      advance: async () => {
        throw new Error('inline step exploded');
      },
    };
    const placed = await placeOrder(
      h.deps,
      { correlationId: 'corr-inline-fail', logger },
      {
        customerId: randomUUID(),
        idempotencyKey: randomUUID(),
        paymentToken: 'tok_ok',
        source: { kind: 'items', items: [{ productId: PRODUCT_A, quantity: 1 }] },
      },
    );
    expect(placed.status).to.equal('PENDING');

    const failures = lines.filter((line) => line.orderId === placed.id);
    expect(failures.map((l) => [l.level, l.msg, l.correlationId, (l.err as { message?: string } | undefined)?.message])).to.deep.equal([
      [50, 'inline saga step failed; the worker takes the order up when its lease lapses', 'corr-inline-fail', 'inline step exploded'],
    ]);
    const counter = await metrics.registry.getSingleMetric('larder_checkout_inline_failures_total')?.get();
    expect(counter?.values.map((v) => v.value)).to.deep.equal([1]);

    // Recoverable as before: once the inline step's lease lapses, a worker claims it and carries on.
    const afterLease = new Date(NOW.getTime() + SETTINGS.leaseMs + 1);
    const claimed = await claimOrder(h.db, placed.id, afterLease, SETTINGS.leaseMs);
    expect(claimed, 'claimable once the lease lapsed').to.not.equal(undefined);
    h.inventory.next('reserve', { kind: 'reserved', items: [{ productId: PRODUCT_A, quantity: 1, unitPrice: EUR(250) }] });
    h.deps = { ...h.deps, advance: (c, id, options) => advanceOrder(h.deps, c, id, options) };
    expect((await advanceOrder(h.deps, claimed!)).status).to.equal('CONFIRMED');
  });
});
