import { failedPrecondition, notFound } from '#libs/errors/app-error.js';
import type { Tx } from '#libs/db/types.js';
import { lockLocationForStock } from '../../data/locations.js';
import type { LocationRecord } from '../location-types.js';

/**
 * For use cases that add units at a location (AdjustStock restocking,
 * CreateTransfer's receiver, ReceiveTransfer): the location, held FOR SHARE
 * until the transaction ends (data/locations.ts, lockLocationForStock, says
 * why and in which order), or NOT_FOUND (LOCATION_NOT_FOUND) for an unknown
 * id and FAILED_PRECONDITION (LOCATION_INACTIVE) for a deactivated or deleted one.
 * Call it before locking any stock row.
 */
export async function requireLocationForStock(trx: Tx, locationId: string): Promise<LocationRecord> {
  const found = await lockLocationForStock(trx, locationId);
  if (found.outcome === 'missing') throw notFound('location', locationId);
  if (found.outcome === 'inactive') {
    const state = found.location.deletedAt ? 'deleted' : 'inactive';
    throw failedPrecondition(`location ${locationId} ("${found.location.code}") is ${state} and takes no stock`, {
      reason: 'LOCATION_INACTIVE',
      metadata: { id: locationId, deleted: String(Boolean(found.location.deletedAt)) },
    });
  }
  return found.location;
}
