import type { OrderRecord } from '../domain/types.js';
import { cancelStep } from './cancel-step.js';
import { releaseAndEnd } from './release-and-end.js';
import type { Step } from './step.js';

/**
 * RESERVED: take the payment, then commit the stock. Each external outcome is
 * recorded before the next call, so a crash anywhere resumes at the right
 * place: PENDING payment → ask the gateway what happened; CAPTURED → commit.
 */
export async function paymentStep(step: Step): Promise<OrderRecord> {
  if (step.order.reservationExpired) return expiredStep(step);
  if (step.chargeNotSent) return charge(step);
  if (step.order.paymentStatus === 'PENDING') {
    // The last charge's outcome is unknown (timeout or crash): ask before charging.
    const known = await step.deps.payments.lookup(step.order.id);
    if (known.status === 'unavailable') return step.retryLater(step.order.paymentAttempts, 'payment gateway unavailable');
    if (known.status === 'captured') return commitStep(step);
    if (known.status === 'declined') return declined(step);
  }
  if (step.order.paymentStatus === 'CAPTURED') return commitStep(step);
  if (step.order.paymentStatus === 'DECLINED') return declined(step);
  return charge(step);
}

async function charge(step: Step): Promise<OrderRecord> {
  const { deps } = step;
  // A slow payment must not lose its stock to the sweeper: extend, unless this
  // step reserved it just now and it outlives the charge by a wide margin
  // (always so when PENDING came with RESERVED: see reserveStep).
  if (!step.chargeNotSent && !step.reservationOutlivesCharge()) {
    const extended = await deps.inventory.extend(step.order.id, deps.saga.reservationTtlMs, step.meta);
    if (extended.kind === 'gone' || extended.kind === 'notFound') return expiredStep(step);
    if (extended.kind === 'unavailable') return step.retryLater(step.order.paymentAttempts + 1, extended.message);
  }

  // PENDING before the charge leaves: written here, or already with RESERVED by this step.
  if (!step.chargeNotSent) await step.record({ paymentStatus: 'PENDING', paymentAttempts: step.order.paymentAttempts + 1 });
  step.chargeNotSent = false;
  const attempt = step.order.paymentAttempts;
  // A cancel that came in before that write is known now: nothing has left yet, so charge nothing.
  if (step.order.cancelRequested) return cancelStep(step);
  const outcome = await deps.payments.charge(
    { orderId: step.order.id, amount: step.order.total!, token: step.order.paymentToken },
    deps.saga.paymentTimeoutMs,
  );
  switch (outcome.kind) {
    case 'captured':
      // The money is taken and nothing says so but the gateway: the restart finds PENDING and looks it up.
      deps.crash?.reached('payment-captured');
      await step.record({ paymentStatus: 'CAPTURED', lastError: null });
      return commitStep(step);
    case 'declined':
      await step.record({ paymentStatus: 'DECLINED', lastError: outcome.reason });
      return declined(step);
    case 'unavailable':
      // Nothing was charged: back to NOT_STARTED, retried until the attempts run out.
      if (attempt >= deps.saga.paymentMaxAttempts) {
        await step.record({ paymentStatus: 'NOT_STARTED', lastError: outcome.reason });
        return releaseAndEnd(step, 'CANCELLED', `payment unavailable after ${attempt} attempts`, outcome.reason);
      }
      return step.retryLater(attempt, outcome.reason, { paymentStatus: 'NOT_STARTED' });
    case 'unknown':
      // Stays PENDING: the next step asks the gateway before anything else, so it is never charged twice.
      return step.retryLater(attempt, outcome.reason);
  }
}

/** The money is taken: commit the reservation and confirm. */
async function commitStep(step: Step): Promise<OrderRecord> {
  if (step.order.paymentStatus !== 'CAPTURED') await step.record({ paymentStatus: 'CAPTURED' });
  // Cancelled while the charge was in flight: do not confirm it first; refund and release.
  if (step.order.cancelRequested) return cancelStep(step);
  const committed = await step.deps.inventory.commit(step.order.id, step.meta);
  if (committed.kind === 'done') {
    const confirmed = await step.finish(
      { status: 'CONFIRMED', lastError: null, nextAttemptAt: null },
      { reason: 'payment captured, stock committed' },
    );
    // Committed with its outbox row, which no relay has published yet: the restart's relay must.
    step.deps.crash?.reached('order-confirmed');
    return confirmed;
  }
  if (committed.kind === 'unavailable') return step.retryLater(step.order.paymentAttempts + 1, committed.message);
  // The reservation ended while we were paying: give the money back.
  return refundAndCancel(
    step,
    'the reservation expired during payment; payment refunded',
    committed.kind === 'gone' ? committed.message : 'reservation not found',
  );
}

async function declined(step: Step): Promise<OrderRecord> {
  return releaseAndEnd(step, 'CANCELLED', 'payment declined', step.order.lastError);
}

/**
 * Inventory expired the reservation (event or refusal). Settle the payment
 * first (an unknown charge is looked up), refund what was taken, cancel.
 */
async function expiredStep(step: Step): Promise<OrderRecord> {
  if (step.order.paymentStatus === 'PENDING') {
    const known = await step.deps.payments.lookup(step.order.id);
    if (known.status === 'unavailable') return step.retryLater(step.order.paymentAttempts, 'payment gateway unavailable');
    if (known.status === 'captured') await step.record({ paymentStatus: 'CAPTURED' });
  }
  if (step.order.paymentStatus === 'CAPTURED')
    return refundAndCancel(step, 'the reservation expired during payment; payment refunded', 'reservation expired');
  return step.finish(
    { status: 'CANCELLED', cancelReason: 'the reservation expired before payment completed', cancelRequested: false, nextAttemptAt: null },
    { reason: 'reservation expired' },
  );
}

async function refundAndCancel(step: Step, reason: string, error: string): Promise<OrderRecord> {
  const refund = await step.deps.payments.refund(step.order.id);
  if (refund.kind === 'unavailable') return step.retryLater(step.order.paymentAttempts + 1, refund.reason, { reservationExpired: true });
  return releaseAndEnd(step, 'CANCELLED', reason, error, { paymentStatus: 'REFUNDED' });
}
