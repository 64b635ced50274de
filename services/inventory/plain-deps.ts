import type { Pool } from '#libs/db/types.js';
import { systemClock, type Clock } from '#libs/timers/clock.js';
import { inventoryEvents } from './contract/inventory-events.js';
import { readRoutingLocations } from './data/location-directory.js';
import type { InventoryDeps } from './domain/deps.js';
import { createLocationDirectory } from './domain/locations/location-directory.js';

/**
 * The inventory's use-case deps without a running service: no coalescing, no
 * relay to wake, locations read fresh. For scripts (operator.ts) and tests that
 * call use cases on their own database; app.ts builds the service's own.
 */
export function plainInventoryDeps(db: Pool, clock: Clock = systemClock): InventoryDeps {
  return {
    db,
    clock,
    events: inventoryEvents,
    // No relay runs here: a service's relay publishes these outbox rows when it next polls.
    afterCommit: () => undefined,
    locations: createLocationDirectory({ read: () => readRoutingLocations(db), maxAgeMs: 0 }),
    defaultReservationTtlMs: 15 * 60_000,
  };
}
