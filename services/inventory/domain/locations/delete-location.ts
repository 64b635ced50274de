import type { RequestContext } from '#libs/context/request-context.js';
import { inTransaction } from '#libs/db/in-transaction.js';
import { failedPrecondition, notFound } from '#libs/errors/app-error.js';
import { appendToOutbox } from '#libs/events/outbox.js';
import { findLocation, lockAndCountLocationUse, markLocationDeleted } from '../../data/locations.js';
import type { InventoryDeps } from '../deps.js';
import type { LocationRecord, LocationUse } from '../location-types.js';
import { refuseDefaultLocation } from './location-rules.js';

/** What LOCATION_IN_USE's metadata `in_use_by` calls each use, and how its message counts it. */
const USES: Record<keyof LocationUse, { name: string; counted: (n: number) => string }> = {
  stockRows: { name: 'stock', counted: (n) => `stock of ${n} product(s)` },
  liveReservations: { name: 'reservations', counted: (n) => `${n} live reservation(s)` },
  transfersInTransit: { name: 'transfers', counted: (n) => `${n} transfer(s) in transit` },
};

/**
 * DeleteLocation (soft): refused for the default location, and while the
 * location holds stock, live reservations or transfers in transit; a deleted
 * location is returned as it is (a retry is safe). The location row is locked
 * FOR UPDATE and then its stock rows, before the checks: a writer adding units
 * there holds the row FOR SHARE (domain/stock/stock-location.ts, holdLocationForStock), so
 * either it committed before the checks (and they see its units) or it waits
 * and then finds the location deleted.
 */
export async function deleteLocation(deps: InventoryDeps, ctx: RequestContext, id: string): Promise<LocationRecord> {
  const now = deps.clock.now();
  const deleted = await inTransaction(deps, async (trx) => {
    const current = await findLocation(trx, id, { forUpdate: true });
    if (!current) throw notFound('location', id);
    if (current.deletedAt) return current;
    refuseDefaultLocation(current, 'deleted');
    const use = await lockAndCountLocationUse(trx, id);
    const uses = (Object.keys(USES) as (keyof LocationUse)[]).filter((key) => use[key] > 0);
    if (uses.length > 0) {
      throw failedPrecondition(
        `location ${id} ("${current.code}") still holds ${uses.map((key) => USES[key].counted(use[key])).join(', ')}; move or settle them first`,
        {
          reason: 'LOCATION_IN_USE',
          metadata: {
            id,
            in_use_by: uses.map((key) => USES[key].name).join(','),
            products_with_stock: String(use.stockRows),
            live_reservations: String(use.liveReservations),
            transfers_in_transit: String(use.transfersInTransit),
          },
        },
      );
    }
    const location = await markLocationDeleted(trx, id, now);
    await appendToOutbox(trx, [deps.events.locationDeleted({ correlationId: ctx.correlationId, now }, location)]);
    return location;
  });
  // Routing on this replica stops at once; other replicas within LOCATION_CACHE_MS (the batch re-reads it anyway).
  deps.locations.invalidate();
  return deleted;
}
