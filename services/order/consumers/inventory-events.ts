import type { Knex } from 'knex';
import { ReservationExpired, ReservationReleased, StockReplenished } from '#libs/contracts/larder/inventory/v1/events.js';
import type { InboxMessage } from '#libs/events/consumer.js';
import type { OrderDeps } from '../domain/deps.js';
import { reservationExpired, stockCameBack } from '../domain/inventory-news.js';

/** What the order service listens to on the INVENTORY stream. */
export const INVENTORY_SUBJECTS = [
  'inventory.stock.replenished',
  'inventory.reservation.released',
  'inventory.reservation.expired',
] as const;

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
    case 'inventory.stock.replenished': {
      const event = StockReplenished.decode(message.data);
      return stockCameBack(trx, [event.productId], now);
    }
    case 'inventory.reservation.released': {
      const { reservation } = ReservationReleased.decode(message.data);
      return stockCameBack(trx, reservation?.items.map((i) => i.productId) ?? [], now);
    }
    case 'inventory.reservation.expired': {
      const { reservation } = ReservationExpired.decode(message.data);
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
