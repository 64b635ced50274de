import type { Tx } from '#libs/db/types.js';
import { notFound } from '#libs/errors/app-error.js';
import type { OutboxEvent } from '#libs/events/outbox.js';
import { extendIfLive, findReservation, findReservationStatus } from '../../data/reservations.js';
import { settleInOneStatement } from '../../data/settlement.js';
import type { InventoryEvents } from '../event-port.js';
import type { RequestContext } from '#libs/context/request-context.js';
import type { InventoryDeps } from '../deps.js';
import type { SettlementMember } from '../reservation-types.js';
import type { ReservationRecord } from '../types.js';
import { decideExtension, decideSettlement, isSettled, refusal, type Settlement } from './reservation-rules.js';

/**
 * Settles a reservation the caller holds locked (the sweeper's claimed row) in
 * the caller's transaction: the same one statement as commit and release.
 */
export async function applySettlement(
  deps: Pick<InventoryDeps, 'events'>,
  trx: Tx,
  ctx: RequestContext,
  reservation: ReservationRecord,
  status: 'COMMITTED' | 'RELEASED' | 'EXPIRED',
  reason: string | undefined,
  now: Date,
): Promise<ReservationRecord> {
  const settled: ReservationRecord = { ...reservation, status, releaseReason: reason, updatedAt: now };
  if (!(await settleInOneStatement(trx, { reservation: settled, status, event: settlementEvent(deps.events, ctx, settled, now), now }))) {
    throw new Error(`reservation ${reservation.orderId} was not RESERVED under the caller's lock`);
  }
  return settled;
}

/** Settles a reservation that moved under us, before giving up (commit, release and the sweeper race). */
const MAX_SETTLE_ATTEMPTS = 3;

/**
 * Commit (payment done) or release (order cancelled). Idempotent; impossible
 * transitions are refused. A read, then one guarded statement, shared with
 * concurrent settles through deps.settlementBatches: if another settle won in
 * between, decide again on what it did. The batches settle on a pooled
 * connection of their own, so a caller whose deps.db is a transaction (the
 * order-event consumer) leaves them out and the statement runs in it.
 */
export async function settleReservation(
  deps: InventoryDeps,
  ctx: RequestContext,
  orderId: string,
  target: Settlement,
  reason?: string,
): Promise<ReservationRecord> {
  const now = deps.clock.now();
  for (let attempt = 1; ; attempt += 1) {
    const current = await findReservation(deps.db, orderId);
    if (!current) throw notFound('reservation', orderId);
    const decision = decideSettlement(current, target, now);
    if (decision.action === 'replay') return current;
    if (decision.action === 'refuse') throw refusal(orderId, target === 'COMMITTED' ? 'commit' : 'release', decision.why, current.status);
    const releaseReason = target === 'RELEASED' ? reason || 'released by caller' : undefined;
    const settled: ReservationRecord = { ...current, status: target, releaseReason, updatedAt: now };
    const member: SettlementMember = { reservation: settled, status: target, event: settlementEvent(deps.events, ctx, settled, now), now };
    const moved = deps.settlementBatches ? await deps.settlementBatches.submit(member) : await settleInOneStatement(deps.db, member);
    if (moved) {
      deps.afterCommit();
      return settled;
    }
    if (attempt >= MAX_SETTLE_ATTEMPTS) throw new Error(`reservation ${orderId} kept changing while being settled`);
  }
}

function settlementEvent(events: InventoryEvents, ctx: RequestContext, settled: ReservationRecord, now: Date): OutboxEvent {
  const eventCtx = { correlationId: ctx.correlationId, now };
  if (settled.status === 'COMMITTED') return events.reservationCommitted(eventCtx, settled);
  return settled.status === 'EXPIRED' ? events.reservationExpired(eventCtx, settled) : events.reservationReleased(eventCtx, settled);
}

/**
 * Gives a slow payment more time: expiry becomes now + ttl. One guarded
 * statement in the usual case; a refusal reads the reservation to say why.
 */
export async function extendReservation(deps: InventoryDeps, orderId: string, ttlMs: number): Promise<ReservationRecord> {
  const now = deps.clock.now();
  const expiresAt = new Date(now.getTime() + ttlMs);
  for (let attempt = 1; ; attempt += 1) {
    const extended = await extendIfLive(deps.db, orderId, expiresAt, now);
    if (extended) return extended;
    const current = await findReservation(deps.db, orderId);
    if (!current) throw notFound('reservation', orderId);
    const decision = decideExtension(current, now);
    if (decision.action === 'refuse') throw refusal(orderId, 'extend', decision.why, current.status);
    // Live now but not a moment ago: a concurrent ReserveStock of the order has just made it.
    // Extend it (answering with its unextended expiry would tell the caller it was extended).
    if (attempt >= MAX_SETTLE_ATTEMPTS) throw new Error(`reservation ${orderId} kept changing while being extended`);
  }
}

export async function getReservation(deps: InventoryDeps, orderId: string): Promise<ReservationRecord> {
  const reservation = await findReservation(deps.db, orderId);
  if (!reservation) throw notFound('reservation', orderId);
  return reservation;
}

/** Whether the order's reservation is still RESERVED: an unknown or settled one has nothing left to settle (one read). */
export async function awaitsSettlement(deps: Pick<InventoryDeps, 'db'>, orderId: string): Promise<boolean> {
  const status = await findReservationStatus(deps.db, orderId);
  return status !== undefined && !isSettled(status);
}
