import { findLeasedOrder } from '../data/orders.js';
import { writeStepChange } from '../data/step-write.js';
import { applyPatch } from '../domain/apply-patch.js';
import { OrderOwnershipLost, type ChangeNote } from '../domain/change-order.js';
import type { OrderDeps } from '../domain/deps.js';
import { assertTransition } from '../domain/order-status.js';
import type { ClaimedOrder, LoggedChange, OrderPatch } from '../domain/order-write-types.js';
import { backoffMs } from '../domain/retry-policy.js';
import type { OrderRecord } from '../domain/types.js';

/**
 * Margin a fresh reservation must have beyond the charge's timeout to skip
 * the extend: generous, so clock skew between the services cannot matter.
 */
const EXTEND_MARGIN_MS = 30_000;

/** Missed writes a step re-reads and retries before it gives the order up (others keep writing flags). */
const MAX_REREADS = 5;

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

  /**
   * Until when inventory holds this order's stock, when this step reserved it
   * (a step that knows it was just reserved may skip the extend before paying).
   */
  reservedUntil?: Date;

  /** This step reserved the stock just now, and it outlives the charge's timeout by a wide margin: no extend needed. */
  reservationOutlivesCharge(): boolean {
    const until = this.reservedUntil;
    return until !== undefined && until.getTime() - this.now.getTime() > this.deps.saga.paymentTimeoutMs + EXTEND_MARGIN_MS;
  }

  /**
   * This step wrote payment PENDING (with the RESERVED change) for a charge it
   * has not sent yet: its payment step charges without asking the gateway
   * first. Only this process, under this lease, can know that; anyone else
   * finding PENDING looks the charge up, as after any unknown outcome.
   */
  chargeNotSent = false;

  /**
   * Records progress and keeps the lease (more calls follow in this step): one
   * statement, guarded by the lease and the version this step last saw. A miss
   * reads the order again: gone from our lease → OrderOwnershipLost; changed
   * by someone else (a cancel request, an expiry flag) → the step now knows
   * it, and the patch is written over the fresh order.
   */
  async record(patch: OrderPatch, note: ChangeNote = { reason: '' }): Promise<OrderRecord> {
    const { deps, claim } = this;
    for (let reread = 0; ; reread += 1) {
      const now = this.now;
      const before = this.order;
      const moving = patch.status !== undefined && patch.status !== before.status;
      if (moving) assertTransition(before.status, patch.status!);
      const after = applyPatch(before, patch, now);
      const correlationId = note.correlationId ?? this.meta.correlationId;
      const logged: LoggedChange | undefined = moving
        ? {
            entry: {
              orderId: before.id,
              fromStatus: before.status,
              toStatus: after.status,
              reason: note.reason,
              error: note.error,
              correlationId,
              createdAt: now,
            },
            event: deps.events.orderStatus(after, { correlationId, now }),
          }
        : undefined;
      if (await writeStepChange(deps.db, before.id, { leaseToken: claim.leaseToken, version: before.version }, patch, now, logged)) {
        if (logged) deps.afterCommit();
        if (moving) deps.observer?.transition(before.status, after.status);
        this.order = after;
        return after;
      }
      const fresh = await findLeasedOrder(deps.db, before.id, claim.leaseToken);
      if (!fresh || reread >= MAX_REREADS) throw new OrderOwnershipLost(before.id);
      this.order = fresh;
    }
  }

  /** Records the outcome and ends the step: the lease is dropped. */
  async finish(patch: OrderPatch, note: ChangeNote = { reason: '' }): Promise<OrderRecord> {
    const order = await this.record({ ...patch, releaseLease: true }, note);
    this.released = true;
    return order;
  }

  private released = false;

  /** False once the step ended (finish, retryLater): its lease is gone and it may not write again. */
  get holdsLease(): boolean {
    return !this.released;
  }

  /** Ends the step to try again after an exponential backoff for the n-th attempt. */
  retryLater(attempt: number, error: string, patch: OrderPatch = {}, note?: ChangeNote): Promise<OrderRecord> {
    const delay = backoffMs(attempt, this.deps.saga.retry, this.deps.random);
    return this.finish({ ...patch, lastError: error, nextAttemptAt: new Date(this.now.getTime() + delay) }, note);
  }
}
