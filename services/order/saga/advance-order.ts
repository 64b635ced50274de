import type { OrderDeps } from '../domain/deps.js';
import { isTerminal } from '../domain/order-status.js';
import type { ClaimedOrder } from '../domain/order-write-types.js';
import type { OrderRecord } from '../domain/types.js';
import { cancelStep } from './cancel-step.js';
import { paymentStep } from './payment-step.js';
import { reserveStep } from './reserve-step.js';
import { Step } from './step.js';

/**
 * Moves a claimed order one step along the saga (docs/design.md §3). Called by the
 * worker for due orders and inline by Checkout and CancelOrder. A reservation
 * runs straight on into its payment under the same lease.
 */
export async function advanceOrder(
  deps: OrderDeps,
  claimed: ClaimedOrder,
  correlationId?: string,
  options: { detachPayment?: boolean } = {},
): Promise<OrderRecord> {
  const step = new Step(deps, claimed, correlationId);
  const { order } = step;
  if (isTerminal(order.status)) return step.finish({ nextAttemptAt: null, cancelRequested: false });
  if (order.cancelRequested) return cancelStep(step);
  switch (order.status) {
    case 'PENDING':
    case 'AWAITING_STOCK': {
      const reserved = await reserveStep(step);
      if (reserved.status !== 'RESERVED' || !step.holdsLease) return reserved;
      // Reserved and still ours: pay now, in this process, instead of handing the
      // order to a later worker round (a claim and a wait saved per order). Inline
      // checkouts answer RESERVED first and pay in the background.
      if (!options.detachPayment) return paymentStep(step);
      deps.carryOn(() => paymentStep(step), reserved.id);
      return reserved;
    }
    case 'RESERVED':
      return paymentStep(step);
    default:
      // CONFIRMED, SHIPPED: nothing for the saga until someone acts on the order.
      return step.finish({ nextAttemptAt: null });
  }
}
