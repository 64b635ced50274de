import { failedPrecondition } from '#libs/errors/app-error.js';
import type { ReservationRecord, ReservationStatus } from '../types.js';

/** What a settle request does to a reservation in a given state: the state machine in one table. */
export type Settlement = 'COMMITTED' | 'RELEASED';
export type Decision = { action: 'apply' } | { action: 'replay' } | { action: 'refuse'; why: string };

const TERMINAL: ReadonlySet<ReservationStatus> = new Set(['COMMITTED', 'RELEASED', 'EXPIRED']);

/** Committed, released or expired: final, no settlement or extension changes it again. */
export function isSettled(status: ReservationStatus): boolean {
  return TERMINAL.has(status);
}

export function decideSettlement(reservation: Pick<ReservationRecord, 'status' | 'expiresAt'>, target: Settlement, now: Date): Decision {
  const { status } = reservation;
  if (target === 'COMMITTED') {
    if (status === 'COMMITTED') return { action: 'replay' };
    if (status !== 'RESERVED') return { action: 'refuse', why: `it is ${status.toLowerCase()}` };
    // Its stock may be handed to others any moment now; the sweeper will release it.
    if (reservation.expiresAt <= now) return { action: 'refuse', why: 'it expired' };
    return { action: 'apply' };
  }
  // Releasing what already went back to stock (released, expired) is a safe repeat.
  if (status === 'RELEASED' || status === 'EXPIRED') return { action: 'replay' };
  if (status === 'COMMITTED') return { action: 'refuse', why: 'it is committed (sold)' };
  return { action: 'apply' };
}

export function decideExtension(reservation: Pick<ReservationRecord, 'status' | 'expiresAt'>, now: Date): Decision {
  if (TERMINAL.has(reservation.status)) return { action: 'refuse', why: `it is ${reservation.status.toLowerCase()}` };
  if (reservation.expiresAt <= now) return { action: 'refuse', why: 'it expired' };
  return { action: 'apply' };
}

export function refusal(orderId: string, verb: string, why: string, status: ReservationStatus) {
  return failedPrecondition(`cannot ${verb} the reservation of order ${orderId}: ${why}`, {
    reason: 'ILLEGAL_RESERVATION_TRANSITION',
    metadata: { order_id: orderId, status },
  });
}
