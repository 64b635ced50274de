import type { Knex } from 'knex';
import { ReservationExpired, ReservationReleased, StockReplenished } from '#libs/contracts/larder/inventory/v1/events.js';
import type { InboxMessage } from '#libs/events/consumer.js';
import { flagReservationExpired, wakeOrdersWaitingFor } from '../data/orders.js';
import type { OrderDeps } from '../domain/deps.js';

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
      return (await wakeOrdersWaitingFor(trx, [event.productId], now)) > 0;
    }
    case 'inventory.reservation.released': {
      const { reservation } = ReservationReleased.decode(message.data);
      return (await wakeOrdersWaitingFor(trx, reservation?.items.map((i) => i.productId) ?? [], now)) > 0;
    }
    case 'inventory.reservation.expired': {
      const { reservation } = ReservationExpired.decode(message.data);
      if (!reservation) return false;
      const flagged = await flagReservationExpired(trx, reservation.orderId, now);
      const woken = await wakeOrdersWaitingFor(
        trx,
        reservation.items.map((i) => i.productId),
        now,
      );
      return flagged || woken > 0;
    }
    default:
      return false;
  }
}
