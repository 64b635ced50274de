import type { ClaimedOrder, OrderPatch } from '../data/orders.js';
import { changeOrder, type ChangeNote } from '../domain/change-order.js';
import { inTransaction, type OrderDeps } from '../domain/deps.js';
import { backoffMs } from '../domain/retry-policy.js';
import type { OrderRecord } from '../domain/types.js';

/**
 * One saga step over a claimed order: every write goes through the lease, so a
 * step whose lease lapsed (worker too slow, another took over) cannot write.
 */
export class Step {
  order: OrderRecord;
  readonly meta: { correlationId?: string };

  constructor(
    readonly deps: OrderDeps,
    private readonly claim: ClaimedOrder,
    correlationId?: string,
  ) {
    this.order = claim.order;
    // A worker step has no request of its own: it carries the one that created the order.
    this.meta = { correlationId: correlationId ?? claim.order.correlationId };
  }

  get now(): Date {
    return this.deps.clock.now();
  }

  /** Records progress and keeps the lease (more calls follow in this step). */
  async record(patch: OrderPatch, note: ChangeNote = { reason: '' }): Promise<OrderRecord> {
    const { order } = await inTransaction(this.deps, (trx) =>
      changeOrder(
        trx,
        this.order,
        { leaseToken: this.claim.leaseToken },
        patch,
        { correlationId: this.meta.correlationId, ...note },
        this.now,
      ),
    );
    if (order.status !== this.order.status) this.deps.observer?.transition(this.order.status, order.status);
    this.order = order;
    return order;
  }

  /** Records the outcome and ends the step: the lease is dropped. */
  finish(patch: OrderPatch, note: ChangeNote = { reason: '' }): Promise<OrderRecord> {
    return this.record({ ...patch, releaseLease: true }, note);
  }

  /** Ends the step to try again after an exponential backoff for the n-th attempt. */
  retryLater(attempt: number, error: string, patch: OrderPatch = {}, note?: ChangeNote): Promise<OrderRecord> {
    const delay = backoffMs(attempt, this.deps.saga.retry, this.deps.random);
    return this.finish({ ...patch, lastError: error, nextAttemptAt: new Date(this.now.getTime() + delay) }, note);
  }
}
