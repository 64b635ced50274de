import type { Tx } from '#libs/db/types.js';
import { flagReservationExpired, wakeOrdersWaitingFor } from '../data/orders.js';

/**
 * What the order service does with inventory's news (consumers/inventory-events.ts
 * decodes it and calls these inside the inbox transaction). Each returns whether
 * an order became due now, so the caller wakes the saga worker after commit.
 */

/** Stock came back (restock, or another order's reservation ended): orders waiting for it retry now, not after their backoff. */
export async function stockCameBack(trx: Tx, productIds: readonly string[], now: Date): Promise<boolean> {
  return (await wakeOrdersWaitingFor(trx, productIds, now)) > 0;
}

/** This order's reservation expired: the order is flagged and due now (the saga refunds or cancels it); its stock is back for others. */
export async function reservationExpired(trx: Tx, orderId: string, productIds: readonly string[], now: Date): Promise<boolean> {
  const flagged = await flagReservationExpired(trx, orderId, now);
  const woken = await stockCameBack(trx, productIds, now);
  return flagged || woken;
}
