import type { Knex } from 'knex';
import { notFound } from '../../../../libs/errors/app-error.js';
import { appendToOutbox } from '../../../../libs/events/outbox.js';
import { findReservation, setReservationStatus, type StoredReservation } from '../../data/reservations.js';
import { recordMovements, settleReserved } from '../../data/stock-levels.js';
import { inTransaction, type InventoryDeps, type RequestContext } from '../deps.js';
import { reservationCommitted, reservationExpired, reservationReleased } from '../events.js';
import type { ReservationRecord } from '../types.js';
import { decideExtension, decideSettlement, refusal, type Settlement } from './reservation-rules.js';

async function lockReservation(trx: Knex.Transaction, orderId: string): Promise<StoredReservation> {
  const reservation = await findReservation(trx, orderId, { forUpdate: true });
  if (!reservation) throw notFound('reservation', orderId);
  return reservation;
}

/**
 * Moves a RESERVED reservation's units to sold, or back to available (caller
 * release or expiry), with its ledger rows and event, in the caller's transaction.
 */
export async function applySettlement(
  trx: Knex.Transaction,
  ctx: RequestContext,
  reservation: ReservationRecord,
  status: 'COMMITTED' | 'RELEASED' | 'EXPIRED',
  reason: string | undefined,
  now: Date,
): Promise<ReservationRecord> {
  const toSold = status === 'COMMITTED';
  await setReservationStatus(trx, reservation.orderId, { status, releaseReason: reason }, now);
  const settled: ReservationRecord = { ...reservation, status, releaseReason: reason, updatedAt: now };
  await recordMovements(
    trx,
    reservation.items.map((i) => ({
      productId: i.productId,
      kind: toSold ? 'COMMIT' : status === 'EXPIRED' ? 'EXPIRE' : 'RELEASE',
      availableDelta: toSold ? 0 : i.quantity,
      reservedDelta: -i.quantity,
      soldDelta: toSold ? i.quantity : 0,
      reference: reservation.orderId,
    })),
    now,
  );
  const eventCtx = { correlationId: ctx.correlationId, now };
  const event = toSold ? reservationCommitted : status === 'EXPIRED' ? reservationExpired : reservationReleased;
  await appendToOutbox(trx, [event(eventCtx, settled)]);
  await settleReserved(trx, reservation.items, toSold ? 'sold' : 'available', now);
  return settled;
}

/** Commit (payment done) or release (order cancelled). Idempotent; impossible transitions are refused. */
export async function settleReservation(
  deps: InventoryDeps,
  ctx: RequestContext,
  orderId: string,
  target: Settlement,
  reason?: string,
): Promise<ReservationRecord> {
  const now = deps.clock.now();
  return inTransaction(deps, async (trx) => {
    const current = await lockReservation(trx, orderId);
    const decision = decideSettlement(current, target, now);
    if (decision.action === 'replay') return current;
    if (decision.action === 'refuse') throw refusal(orderId, target === 'COMMITTED' ? 'commit' : 'release', decision.why, current.status);
    return applySettlement(trx, ctx, current, target, target === 'RELEASED' ? reason || 'released by caller' : undefined, now);
  });
}

/** Gives a slow payment more time: expiry becomes now + ttl. */
export async function extendReservation(deps: InventoryDeps, orderId: string, ttlMs: number): Promise<ReservationRecord> {
  const now = deps.clock.now();
  return inTransaction(deps, async (trx) => {
    const current = await lockReservation(trx, orderId);
    const decision = decideExtension(current, now);
    if (decision.action === 'refuse') throw refusal(orderId, 'extend', decision.why, current.status);
    const expiresAt = new Date(now.getTime() + ttlMs);
    await setReservationStatus(trx, orderId, { status: current.status, expiresAt }, now);
    return { ...current, expiresAt, updatedAt: now };
  });
}

export async function getReservation(deps: InventoryDeps, orderId: string): Promise<ReservationRecord> {
  const reservation = await findReservation(deps.db, orderId);
  if (!reservation) throw notFound('reservation', orderId);
  return reservation;
}
