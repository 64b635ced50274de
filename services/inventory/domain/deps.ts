import type { Pool } from '#libs/db/types.js';
import type { NaturalBatches } from '#libs/batching/natural-batches.js';
import type { CrashPoints } from '#libs/process/crash-points.js';
import type { Clock } from '#libs/timers/clock.js';
import type { InventoryEvents } from './event-port.js';
import type { LocationDirectory } from './locations/location-directory.js';
import type { BatchMember, BatchVerdict, SettlementMember } from './reservation-types.js';
import type { CatalogCache } from './catalog/catalog-cache.js';
import type { StockRecord } from './types.js';

/** What the inventory's use cases need; built once in main.ts (or per test). */
export interface InventoryDeps {
  db: Pool;
  clock: Clock;
  /** Encodes the facts use cases write to the outbox (contract/inventory-events.ts). */
  events: InventoryEvents;
  /** Called after a transaction that wrote outbox rows commits (wakes the relay). */
  afterCommit(): void;
  /** The locations as routing reads them, cached (domain/locations/location-directory.ts). */
  locations: LocationDirectory;
  /** TTL of a reservation when the caller gives none. */
  defaultReservationTtlMs: number;
  /** Coalesces concurrent ReserveStock calls (built in app.ts); without it each call is a batch of one. */
  reservationBatches?: NaturalBatches<BatchMember, BatchVerdict>;
  /**
   * Coalesces concurrent commits and releases the same way (built in app.ts):
   * one stock UPDATE per product per batch. Without it each settles alone.
   */
  settlementBatches?: NaturalBatches<SettlementMember, boolean>;
  /** Test-only crash points (LARDER_CRASH_AT); absent means none. */
  crash?: CrashPoints;
  /**
   * The catalog cache (CATALOG_CACHE, docs/catalog-cache.md); absent when off.
   * Catalog reads go through it, catalog writes drop what they touched once committed.
   */
  catalogCache?: CatalogCache;
  /** Coalesces the fresh stock reads that cached catalog answers join (built in app.ts with the cache). */
  stockReads?: NaturalBatches<readonly string[], Map<string, StockRecord>>;
}
