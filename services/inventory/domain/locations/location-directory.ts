import type { RoutingLocation } from '../location-types.js';

/**
 * The locations as routing reads them, kept in memory: ReserveStock ranks its
 * candidates from here without a query of its own (docs/design.md §8). An entry
 * is at most `maxAgeMs` old; a location created or changed through another
 * replica is routed to within that time. Nothing unsafe follows from an old
 * entry: reserve_stock_batch re-reads whether each candidate is active under its
 * locks, and a location unknown here is looked up again before NOT_FOUND.
 */
export interface LocationDirectory {
  /** Every location (deleted ones too), at most maxAgeMs old. */
  all(): Promise<readonly RoutingLocation[]>;
  /** One location by id, read again if it is not known yet; undefined when it does not exist. */
  find(id: string): Promise<RoutingLocation | undefined>;
  /** The default location (migration 008 made it; it can be neither deleted nor replaced). */
  defaultLocation(): Promise<RoutingLocation>;
  /** Forget what is held (this replica changed a location). */
  invalidate(): void;
}

export function createLocationDirectory(options: {
  read: () => Promise<RoutingLocation[]>;
  maxAgeMs: number;
  now?: () => number;
}): LocationDirectory {
  const now = options.now ?? Date.now;
  let held: { at: number; locations: Promise<RoutingLocation[]> } | undefined;

  const load = (): Promise<RoutingLocation[]> => {
    const locations = options.read();
    const entry = { at: now(), locations };
    held = entry;
    // A failed read is not kept: the next caller reads again.
    locations.catch(() => {
      if (held === entry) held = undefined;
    });
    return locations;
  };
  const all = (): Promise<RoutingLocation[]> => (held && now() - held.at <= options.maxAgeMs ? held.locations : load());

  return {
    all,
    async find(id) {
      const known = (await all()).find((l) => l.id === id);
      return known ?? (await load()).find((l) => l.id === id);
    },
    async defaultLocation() {
      const found = (await all()).find((l) => l.isDefault);
      if (!found) throw new Error('no default location: run the inventory migrations (008 creates it)');
      return found;
    },
    invalidate() {
      held = undefined;
    },
  };
}
