import type { Knex } from 'knex';
import { INVENTORY_EVENTS } from '#libs/events/catalog.js';
import type { InboxMessage } from '#libs/events/consumer.js';
import type { OrderDeps } from '../domain/deps.js';
import { reservationExpired, stockCameBack } from '../domain/inventory-news.js';

/** What the order service listens to on the INVENTORY stream. */
export const INVENTORY_SUBJECTS = [
  INVENTORY_EVENTS.stockReplenished.subject,
  INVENTORY_EVENTS.reservationReleased.subject,
  INVENTORY_EVENTS.reservationExpired.subject,
];

/**
 * Applies one inventory event inside the inbox transaction:
 * - stock came back (restock, or another order's reservation ended) →
 *   orders waiting for those products are due now instead of after their backoff;
 * - this order's reservation expired → the order is flagged and due now (the
 *   saga refunds or cancels it).
 * Returns whether the saga worker should be woken.
 */
export async function applyInventoryEvent(deps: Pick<OrderDeps, 'clock'>, message: InboxMessage, trx: Knex.Transaction): Promise<boolean> {
  const now = deps.clock.now();
  switch (message.subject) {
    case INVENTORY_EVENTS.stockReplenished.subject: {
      const event = INVENTORY_EVENTS.stockReplenished.codec.decode(message.data);
      return stockCameBack(trx, [event.productId], now);
    }
    case INVENTORY_EVENTS.reservationReleased.subject: {
      const { reservation } = INVENTORY_EVENTS.reservationReleased.codec.decode(message.data);
      return stockCameBack(trx, reservation?.items.map((i) => i.productId) ?? [], now);
    }
    case INVENTORY_EVENTS.reservationExpired.subject: {
      const { reservation } = INVENTORY_EVENTS.reservationExpired.codec.decode(message.data);
      if (!reservation) return false;
      return reservationExpired(
        trx,
        reservation.orderId,
        reservation.items.map((i) => i.productId),
        now,
      );
    }
    default:
      return false;
  }
}
