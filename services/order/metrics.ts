import type { ServiceMetrics } from '#libs/metrics/service-metrics.js';
import type { OrderObserver } from './domain/deps.js';

/** The order service's own Prometheus series, beside the RPC metrics every service has. */
export function orderObserver(metrics: ServiceMetrics): OrderObserver {
  const transitions = metrics.counter('larder_order_transitions_total', 'Order status changes.', ['from', 'to']);
  const checkouts = metrics.counter('larder_checkouts_total', 'Checkout/CreateOrder calls by outcome.', ['outcome']);
  const inlineFailures = metrics.counter(
    'larder_checkout_inline_failures_total',
    'Checkout/CreateOrder inline saga steps that failed; each order waits for the worker once its lease lapses.',
  );
  return {
    transition: (from, to) => transitions.inc({ from: from ?? 'NONE', to }),
    checkout: (outcome) => checkouts.inc({ outcome }),
    inlineStepFailed: () => inlineFailures.inc(),
  };
}
