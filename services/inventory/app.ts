import { InventoryServiceService } from '#libs/contracts/larder/inventory/v1/inventory_service.js';
import { inventoryEvents } from './contract/inventory-events.js';
import { INVENTORY_STREAM, ORDERS_STREAM } from '#libs/events/streams.js';
import type { Logger } from '#libs/logging/logger.js';
import { handlersOf, scopesOf } from '#libs/grpc/rpc-table.js';
import { ServiceRuntime } from '#libs/service/runtime.js';
import type { InventoryConfig } from './config.js';
import { findInvariantViolations } from './data/invariants.js';
import { reserveBatch } from './data/reservations.js';
import { applyOrderEvent, ORDER_SUBJECTS, orderEventAlreadyApplied } from './consumers/order-events.js';
import type { InventoryDeps } from './domain/deps.js';
import { expireReservations } from './domain/reservations/expire-reservations.js';
import { naturalBatches } from '#libs/batching/natural-batches.js';
import { settleBatch } from './data/settlement.js';
import { countLowStockByLocation } from './data/stock-levels.js';
import { readRoutingLocations } from './data/location-directory.js';
import { createLocationDirectory } from './domain/locations/location-directory.js';
import { systemClock, type Clock } from '#libs/timers/clock.js';
import { inventoryRpcs } from './transport/rpcs.js';

export const INVENTORY_SERVICE_NAME = 'larder.inventory.v1.InventoryService';

export interface RunningInventory {
  port: number;
  deps: InventoryDeps;
  runtime: ServiceRuntime;
  /** Graceful stop: NOT_SERVING, drain calls, stop workers, close pools. */
  stop(): Promise<void>;
}

/**
 * The composition root's body: builds every dependency from config and starts
 * serving. main.ts calls it with the environment's config; tests call it with
 * their own database, broker and clock.
 */
export async function startInventory(config: InventoryConfig, logger: Logger, clock: Clock = systemClock): Promise<RunningInventory> {
  const runtime = new ServiceRuntime({
    name: 'larder-inventory',
    config,
    logger,
    serviceNames: [INVENTORY_SERVICE_NAME],
    // Ours to publish to, and the order service's to consume from.
    streams: [INVENTORY_STREAM, ORDERS_STREAM],
    outboxPollMs: config.outboxPollMs,
  });
  const deps: InventoryDeps = {
    db: runtime.db,
    clock,
    events: inventoryEvents,
    afterCommit: runtime.wakeRelay,
    locations: createLocationDirectory({ read: () => readRoutingLocations(runtime.db), maxAgeMs: config.locationCacheMs }),
    defaultReservationTtlMs: config.defaultReservationTtlMs,
    reservationBatches: naturalBatches({
      run: (members) => reserveBatch(runtime.db, members),
      maxBatch: config.reserveBatchMax,
      maxInFlight: config.reserveBatchesInFlight,
    }),
    // The same natural batching for CommitReservation and ReleaseReservation.
    settlementBatches: naturalBatches({
      run: (members) => settleBatch(runtime.db, members),
      maxBatch: config.settleBatchMax,
      maxInFlight: config.settleBatchesInFlight,
    }),
  };
  runtime.server.addService(InventoryServiceService, handlersOf(inventoryRpcs, deps), scopesOf(inventoryRpcs));

  const reservations = runtime.metrics.counter('larder_reservations_total', 'ReserveStock calls by outcome.', ['outcome']);
  runtime.onRpc((method, code, reason) => {
    if (method.endsWith('/ReserveStock')) reservations.inc({ outcome: code === 'OK' ? 'reserved' : (reason ?? code).toLowerCase() });
  });
  const expiredTotal = runtime.metrics.counter(
    'larder_reservations_expired_total',
    'Reservations released by the sweeper after their TTL.',
  );
  runtime.every(config.sweepIntervalMs, async () => {
    const expired = await expireReservations(deps);
    expiredTotal.inc(expired);
    if (expired > 0) logger.info({ expired }, 'released expired reservations');
  });
  // Read at scrape time, at most once a second however often Prometheus (or several) scrapes;
  // NaN while the database cannot answer, so /metrics still serves the other series.
  // One series per location; a location with nothing low reads 0 (every location is listed).
  let lowStock: { at: number; count: Promise<Record<string, number>> } | undefined;
  const countLowStock = async (): Promise<Record<string, number>> => {
    const [locations, low] = await Promise.all([deps.locations.all(), countLowStockByLocation(runtime.db)]);
    return Object.fromEntries(locations.filter((l) => !l.deleted).map((l) => [l.code, low.get(l.code) ?? 0]));
  };
  runtime.metrics.gauge(
    'larder_products_low_stock',
    'Live products at or below their low-stock threshold, per location (code).',
    () => {
      if (!lowStock || Date.now() - lowStock.at > 1_000) {
        lowStock = { at: Date.now(), count: countLowStock().catch(() => ({})) };
      }
      return lowStock.count;
    },
    'location',
  );
  // The live checker: docs/design.md §2's invariant on the running database, as a gauge to alert on.
  let drift = 0;
  runtime.metrics.gauge('larder_invariant_violations', 'Products breaking stock conservation at the last live check.', () => drift);
  if (config.invariantCheckIntervalMs > 0) {
    runtime.every(config.invariantCheckIntervalMs, async () => {
      const violations = await findInvariantViolations(runtime.db);
      drift = violations.length;
      for (const v of violations)
        logger.error({ productId: v.productId, sku: v.sku, location: v.location }, `invariant violated: ${v.problem}`);
    });
  }
  runtime.consume({
    component: 'order-events',
    stream: ORDERS_STREAM.name,
    durableName: 'inventory-order-events',
    filterSubjects: ORDER_SUBJECTS,
    handle: (message, trx, context) => applyOrderEvent(deps, message, trx, context),
    alreadyApplied: (message) => orderEventAlreadyApplied(deps, message),
  });

  const port = await runtime.serve();
  return { port, deps, runtime, stop: () => runtime.stop() };
}
