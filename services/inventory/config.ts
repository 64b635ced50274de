import { readCommonConfig, type CommonConfig } from '#libs/config/common.js';
import { envReader, type Env } from '#libs/config/env.js';
import { INVENTORY_SCOPES } from './transport/scopes.js';

/**
 * Development keys, documented in docs/configuration.md; refused in production
 * (NODE_ENV=production requires API_KEYS).
 */
export const DEVELOPMENT_API_KEYS = [
  'admin=dev-inventory-admin-key:*',
  'storefront=dev-storefront-key:catalog.read,reservations',
  // The order service also restocks the units of a confirmed order that is cancelled.
  'order-service=dev-order-service-key:catalog.read,reservations,stock.write',
  'warehouse=dev-warehouse-key:catalog.read,stock.write',
].join(';');

export interface InventoryConfig extends CommonConfig {
  defaultReservationTtlMs: number;
  sweepIntervalMs: number;
  outboxPollMs: number;
  invariantCheckIntervalMs: number;
  /** Most ReserveStock calls coalesced into one statement (1 = no coalescing). */
  reserveBatchMax: number;
  /** Reservation batches in the database at once (each holds one pooled connection). */
  reserveBatchesInFlight: number;
  /** Most CommitReservation/ReleaseReservation calls coalesced into one statement (1 = no coalescing). */
  settleBatchMax: number;
  /** Settlement batches in the database at once. */
  settleBatchesInFlight: number;
  /** How old the locations routing ranks from may be (another replica's change is routed to within it). */
  locationCacheMs: number;
  /** The catalog cache (docs/catalog-cache.md); undefined when CATALOG_CACHE=false. */
  catalogCache?: CatalogCacheConfig;
}

export interface CatalogCacheConfig {
  maxEntries: number;
  maxBytes: number;
  /** Longest any entry lives. */
  ttlMs: number;
  /** Longest an entry is served while invalidations cannot arrive; also how late an event may be before the cache assumes it missed some. */
  fallbackTtlMs: number;
}

/** The catalog cache's settings, or undefined when it is off. */
function readCatalogCacheConfig(read: ReturnType<typeof envReader>): CatalogCacheConfig | undefined {
  if (!read.bool('CATALOG_CACHE', true)) return undefined;
  const ttlMs = read.int('CATALOG_CACHE_TTL_MS', 60_000, { min: 100, max: 86_400_000 });
  return {
    maxEntries: read.int('CATALOG_CACHE_MAX_ENTRIES', 10_000, { min: 1, max: 10_000_000 }),
    maxBytes: read.int('CATALOG_CACHE_MAX_MB', 64, { min: 1, max: 65_536 }) * 1024 * 1024,
    ttlMs,
    fallbackTtlMs: read.int('CATALOG_CACHE_FALLBACK_TTL_MS', Math.min(1_000, ttlMs), { min: 10, max: ttlMs }),
  };
}

/** Reads and validates the environment; throws a ConfigError naming the bad variable. */
export function readInventoryConfig(env: Env): InventoryConfig {
  const read = envReader(env);
  return {
    ...readCommonConfig(read, {
      database: 'larder_inventory',
      grpcPort: 50051,
      metricsPort: 9464,
      developmentApiKeys: DEVELOPMENT_API_KEYS,
      scopes: INVENTORY_SCOPES,
    }),
    defaultReservationTtlMs: read.int('RESERVATION_TTL_MS', 15 * 60_000, { min: 1_000, max: 24 * 3_600_000 }),
    sweepIntervalMs: read.int('SWEEP_INTERVAL_MS', 1_000, { min: 50, max: 3_600_000 }),
    outboxPollMs: read.int('OUTBOX_POLL_MS', 200, { min: 10, max: 60_000 }),
    invariantCheckIntervalMs: read.int('INVARIANT_CHECK_INTERVAL_MS', 60_000, { min: 0, max: 86_400_000 }),
    reserveBatchMax: read.int('RESERVE_BATCH_MAX', 64, { min: 1, max: 1_000 }),
    reserveBatchesInFlight: read.int('RESERVE_BATCHES_IN_FLIGHT', 2, { min: 1, max: 100 }),
    settleBatchMax: read.int('SETTLE_BATCH_MAX', 64, { min: 1, max: 1_000 }),
    settleBatchesInFlight: read.int('SETTLE_BATCHES_IN_FLIGHT', 2, { min: 1, max: 100 }),
    locationCacheMs: read.int('LOCATION_CACHE_MS', 1_000, { min: 0, max: 60_000 }),
    catalogCache: readCatalogCacheConfig(read),
  };
}
