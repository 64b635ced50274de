import { claimExpired } from '../../data/reservations.js';
import { inTransaction } from '#libs/db/in-transaction.js';
import { type InventoryDeps } from '../deps.js';
import { applySettlement } from './settle-reservation.js';

/**
 * One sweep: releases up to `limit` reservations whose TTL passed, each with
 * its EXPIRE ledger rows and inventory.reservation.expired event. Rows another
 * sweeper (replica) or an in-flight commit holds are skipped, not waited for.
 * One reservation per transaction: its stock rows are locked in product order
 * like every other writer's, so a sweep cannot deadlock with reservations.
 * Returns how many expired.
 */
export async function expireReservations(deps: InventoryDeps, limit = 100): Promise<number> {
  let expired = 0;
  while (expired < limit) {
    const now = deps.clock.now();
    const done = await inTransaction(deps, async (trx) => {
      const [due] = await claimExpired(trx, now, 1);
      if (!due) return false;
      await applySettlement(deps, trx, {}, due, 'EXPIRED', 'reservation TTL elapsed', now);
      return true;
    });
    if (!done) break;
    expired += 1;
  }
  return expired;
}
