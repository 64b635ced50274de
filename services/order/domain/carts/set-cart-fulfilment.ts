import type { RequestContext } from '#libs/context/request-context.js';
import { AppError, failedPrecondition, unavailable } from '#libs/errors/app-error.js';
import { findCart, writeCartFulfilment } from '../../data/carts.js';
import type { OrderDeps } from '../deps.js';
import type { CartRecord, Fulfilment } from '../types.js';

const PICKUP_FIELD = 'fulfilment.pickup.location_id';

/**
 * Sets (or, with none, clears) how the customer wants the order. A pickup
 * location is checked with inventory first (no row lock across the call):
 * it must exist, be active and offer pickup. Availability checks then count
 * only the locations that serve it, and Checkout uses it when its request
 * names no fulfilment.
 */
export async function setCartFulfilment(
  deps: Pick<OrderDeps, 'db' | 'clock' | 'inventory'>,
  ctx: RequestContext,
  customerId: string,
  fulfilment: Fulfilment | undefined,
): Promise<CartRecord> {
  if (fulfilment?.kind === 'pickup') await assertPickupLocation(deps, ctx, fulfilment.locationId);
  const now = deps.clock.now();
  return deps.db.transaction(async (trx) => {
    await writeCartFulfilment(trx, customerId, fulfilment, now);
    return findCart(trx, customerId);
  });
}

async function assertPickupLocation(deps: Pick<OrderDeps, 'inventory'>, ctx: RequestContext, locationId: string): Promise<void> {
  const outcome = await deps.inventory.location(locationId, { correlationId: ctx.correlationId });
  const metadata = { location_id: locationId };
  switch (outcome.kind) {
    case 'notFound':
      throw new AppError('notFound', `location ${locationId} not found (${PICKUP_FIELD})`, {
        reason: 'LOCATION_NOT_FOUND',
        field: PICKUP_FIELD,
        metadata: { id: locationId },
      });
    case 'unavailable':
      throw unavailable(`cannot check location ${locationId} now, retry later: ${outcome.message}`, {
        reason: 'INVENTORY_UNAVAILABLE',
        metadata,
      });
    case 'found':
      if (!outcome.active)
        throw failedPrecondition(`location ${locationId} is not active (${PICKUP_FIELD})`, {
          reason: 'LOCATION_INACTIVE',
          field: PICKUP_FIELD,
          metadata,
        });
      if (!outcome.pickup)
        throw failedPrecondition(`location ${locationId} does not offer pickup (${PICKUP_FIELD})`, {
          reason: 'PICKUP_NOT_OFFERED',
          field: PICKUP_FIELD,
          metadata,
        });
  }
}
