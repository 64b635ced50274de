import type { OrderRecord } from '../domain/types.js';
import type { Step } from './step.js';

/** Hands held stock back (idempotent; nothing held is fine) and ends the order. */
export async function releaseAndEnd(
  step: Step,
  status: 'CANCELLED' | 'FAILED',
  reason: string,
  error?: string,
  extra: { paymentStatus?: 'REFUNDED' } = {},
): Promise<OrderRecord> {
  const released = await step.deps.inventory.release(step.order.id, reason, step.meta);
  if (released.kind === 'unavailable') return step.retryLater(step.order.paymentAttempts + 1, released.message);
  return step.finish(
    {
      ...extra,
      status,
      cancelReason: reason,
      cancelRequested: false,
      lastError: error ?? step.order.lastError ?? null,
      nextAttemptAt: null,
    },
    { reason, error },
  );
}
