import type { RequestContext } from '#libs/context/request-context.js';
import { inTransaction } from '#libs/db/in-transaction.js';
import { aborted, failedPrecondition, notFound } from '#libs/errors/app-error.js';
import { appendToOutbox } from '#libs/events/outbox.js';
import { findLocation, patchLocation } from '../../data/locations.js';
import type { InventoryDeps } from '../deps.js';
import type { LocationPatch, LocationRecord } from '../location-types.js';
import { refuseDefaultLocation, requireCoordinatesForRadius } from './location-rules.js';

export interface UpdateLocationCommand {
  id: string;
  patch: LocationPatch;
  /** The etag the caller read; a mismatch means someone else changed it first. */
  expectedVersion?: number;
  /** The mask paths, for the event. */
  changedFields: string[];
}

/**
 * UpdateLocation: the masked fields, under the row's lock (FOR UPDATE, so it
 * waits for a stock writer holding the row FOR SHARE), announced as
 * inventory.location.updated. A deleted location is not changed; the default
 * one is never deactivated.
 */
export async function updateLocation(deps: InventoryDeps, ctx: RequestContext, command: UpdateLocationCommand): Promise<LocationRecord> {
  const now = deps.clock.now();
  const { id, patch } = command;
  const updated = await inTransaction(deps, async (trx) => {
    const current = await findLocation(trx, id, { forUpdate: true });
    if (!current) throw notFound('location', id);
    if (command.expectedVersion !== undefined && command.expectedVersion !== current.version) {
      throw aborted(
        `location ${id} was changed concurrently (etag ${current.version}, you sent ${command.expectedVersion}); read it again`,
        {
          reason: 'ETAG_MISMATCH',
          metadata: { etag: String(current.version) },
        },
      );
    }
    if (current.deletedAt) {
      throw failedPrecondition(`location ${id} is deleted and cannot be changed`, { reason: 'LOCATION_DELETED', metadata: { id } });
    }
    if (patch.active === false) refuseDefaultLocation(current, 'deactivated');
    const coordinates = patch.coordinates === undefined ? current.coordinates : (patch.coordinates ?? undefined);
    requireCoordinatesForRadius(
      { coordinates, deliveryArea: patch.deliveryArea ?? current.deliveryArea },
      patch.deliveryArea ? 'location.delivery_area.radius_km' : 'location.coordinates',
    );
    const location = await patchLocation(trx, id, patch, now);
    await appendToOutbox(trx, [deps.events.locationUpdated({ correlationId: ctx.correlationId, now }, location, command.changedFields)]);
    return location;
  });
  // Routing on this replica sees the change at once; other replicas within LOCATION_CACHE_MS.
  deps.locations.invalidate();
  return updated;
}
