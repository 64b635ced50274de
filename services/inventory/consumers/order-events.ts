import type { Knex } from 'knex';
import { AppError } from '#libs/errors/app-error.js';
import { ORDER_EVENTS } from '#libs/events/catalog.js';
import type { InboxContext, InboxMessage } from '#libs/events/consumer.js';
import type { InventoryDeps } from '../domain/deps.js';
import type { Settlement } from '../domain/reservations/reservation-rules.js';
import { awaitsSettlement, settleReservation } from '../domain/reservations/settle-reservation.js';

/** What inventory listens to on the ORDERS stream. */
export const ORDER_SUBJECTS = [ORDER_EVENTS.confirmed.subject, ORDER_EVENTS.cancelled.subject];

/** The settlement an order event asks for, if any. */
function requestedSettlement(message: InboxMessage): { orderId: string; target: Settlement; reason?: string } | undefined {
  if (message.subject === ORDER_EVENTS.confirmed.subject) {
    const { order } = ORDER_EVENTS.confirmed.codec.decode(message.data);
    return order && { orderId: order.id, target: 'COMMITTED' };
  }
  if (message.subject === ORDER_EVENTS.cancelled.subject) {
    const { order } = ORDER_EVENTS.cancelled.codec.decode(message.data);
    return order && { orderId: order.id, target: 'RELEASED', reason: order.cancelReason || 'order cancelled' };
  }
  return undefined;
}

/**
 * The second path to a settled reservation: the order service commits or
 * releases by direct call, and also says so in an event; applying the event
 * makes a missed call converge. Both are idempotent, so whichever comes second
 * changes nothing. A reservation that is already settled the other way, or
 * unknown, is not an error here: the order service decided.
 *
 * Every statement runs on the inbox transaction, so the effect and the inbox
 * row commit or roll back together. That is why the settlement batches are
 * left out: they settle on a connection of their own from the pool (and with
 * DB_POOL_MAX=1 would wait for one forever while this transaction holds the
 * only one). The relay is woken once the inbox transaction has committed.
 */
export async function applyOrderEvent(
  deps: InventoryDeps,
  message: InboxMessage,
  trx: Knex.Transaction,
  context: InboxContext,
): Promise<void> {
  const inTrx: InventoryDeps = {
    ...deps,
    db: trx as unknown as Knex,
    settlementBatches: undefined,
    afterCommit: () => context.afterCommit(deps.afterCommit),
  };
  const wanted = requestedSettlement(message);
  if (!wanted) return;
  try {
    await settleReservation(inTrx, { correlationId: message.correlationId }, wanted.orderId, wanted.target, wanted.reason);
  } catch (error) {
    if (error instanceof AppError && (error.kind === 'notFound' || error.kind === 'failedPrecondition')) return;
    throw error;
  }
}

/**
 * Usually the direct call came first and the event finds the reservation
 * settled: one read of its status, and nothing written (the inbox transaction's
 * four statements were most of what inventory did per order). Settled states
 * are final, and an unknown reservation is left alone by applyOrderEvent as
 * well, so neither has anything left to apply.
 */
export async function orderEventAlreadyApplied(deps: InventoryDeps, message: InboxMessage): Promise<boolean> {
  const wanted = requestedSettlement(message);
  if (!wanted) return true;
  return !(await awaitsSettlement(deps, wanted.orderId));
}
