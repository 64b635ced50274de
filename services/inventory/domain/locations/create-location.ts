import type { RequestContext } from '#libs/context/request-context.js';
import { inTransaction } from '#libs/db/in-transaction.js';
import { alreadyExists } from '#libs/errors/app-error.js';
import { appendToOutbox } from '#libs/events/outbox.js';
import { uuidv7 } from '#libs/ids/uuid.js';
import { insertLocation } from '../../data/locations.js';
import { isUniqueViolation } from '../../data/rows.js';
import type { InventoryDeps } from '../deps.js';
import type { LocationRecord, NewLocation } from '../location-types.js';
import { requireCoordinatesForRadius } from './location-rules.js';

/** CreateLocation: a new location with a unique code, announced (inventory.location.created) in the same transaction. */
export async function createLocation(deps: InventoryDeps, ctx: RequestContext, command: Omit<NewLocation, 'id'>): Promise<LocationRecord> {
  requireCoordinatesForRadius(command, 'location.delivery_area.radius_km');
  const now = deps.clock.now();
  try {
    const created = await inTransaction(deps, async (trx) => {
      const location = await insertLocation(trx, { ...command, id: uuidv7(now.getTime()) }, now);
      await appendToOutbox(trx, [deps.events.locationCreated({ correlationId: ctx.correlationId, now }, location)]);
      return location;
    });
    // Routing on this replica sees it at once; other replicas within LOCATION_CACHE_MS.
    deps.locations.invalidate();
    return created;
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw alreadyExists(`a location with code "${command.code}" already exists (deleted locations keep their code)`, {
        reason: 'LOCATION_CODE_TAKEN',
        field: 'location.code',
        metadata: { code: command.code },
      });
    }
    throw error;
  }
}
