import type { Knex } from 'knex';
import { OrderCancelled, OrderConfirmed } from '../../../libs/contracts/larder/order/v1/events.js';
import { AppError } from '../../../libs/errors/app-error.js';
import type { InboxMessage } from '../../../libs/events/consumer.js';
import type { InventoryDeps } from '../domain/deps.js';
import { settleReservation } from '../domain/reservations/settle-reservation.js';

/** What inventory listens to on the ORDERS stream. */
export const ORDER_SUBJECTS = ['orders.confirmed', 'orders.cancelled'] as const;

/**
 * The second path to a settled reservation: the order service commits or
 * releases by direct call, and also says so in an event; applying the event
 * makes a missed call converge. Both are idempotent, so whichever comes second
 * changes nothing. Runs in the inbox transaction (a savepoint), so the effect
 * and the inbox row commit together. A reservation that is already settled
 * the other way, or unknown, is not an error here: the order service decided.
 */
export async function applyOrderEvent(deps: InventoryDeps, message: InboxMessage, trx: Knex.Transaction): Promise<void> {
  const inTrx: InventoryDeps = { ...deps, db: trx as unknown as Knex, afterCommit: () => undefined };
  const ctx = { correlationId: message.correlationId };
  try {
    if (message.subject === 'orders.confirmed') {
      const { order } = OrderConfirmed.decode(message.data);
      if (order) await settleReservation(inTrx, ctx, order.id, 'COMMITTED');
    } else if (message.subject === 'orders.cancelled') {
      const { order } = OrderCancelled.decode(message.data);
      if (order) await settleReservation(inTrx, ctx, order.id, 'RELEASED', order.cancelReason || 'order cancelled');
    }
  } catch (error) {
    if (error instanceof AppError && (error.kind === 'notFound' || error.kind === 'failedPrecondition')) return;
    throw error;
  }
}
