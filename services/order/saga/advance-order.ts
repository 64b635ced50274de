import type { ClaimedOrder } from '../data/orders.js';
import type { OrderDeps } from '../domain/deps.js';
import { isTerminal } from '../domain/order-status.js';
import type { OrderRecord } from '../domain/types.js';
import { cancelStep } from './cancel-step.js';
import { paymentStep } from './payment-step.js';
import { reserveStep } from './reserve-step.js';
import { Step } from './step.js';

/**
 * Moves a claimed order one step along the saga (DESIGN §3). Called by the
 * worker for due orders and inline by Checkout and CancelOrder.
 */
export async function advanceOrder(deps: OrderDeps, claimed: ClaimedOrder, correlationId?: string): Promise<OrderRecord> {
  const step = new Step(deps, claimed, correlationId);
  const { order } = step;
  if (isTerminal(order.status)) return step.finish({ nextAttemptAt: null, cancelRequested: false });
  if (order.cancelRequested) return cancelStep(step);
  switch (order.status) {
    case 'PENDING':
    case 'AWAITING_STOCK':
      return reserveStep(step);
    case 'RESERVED':
      return paymentStep(step);
    default:
      // CONFIRMED, SHIPPED: nothing for the saga until someone acts on the order.
      return step.finish({ nextAttemptAt: null });
  }
}
