import { status as Code, type ServiceError } from '@grpc/grpc-js';
import * as inventoryMessages from '#libs/contracts/larder/inventory/v1/inventory_service.js';
import { InventoryServiceService } from '#libs/contracts/larder/inventory/v1/inventory_service.js';
import { AllocationPolicy, type Destination as DestinationMessage } from '#libs/contracts/larder/inventory/v1/locations.js';
import { AdjustmentReason, ReservationStatus } from '#libs/contracts/larder/inventory/v1/resources.js';
import { createPromiseClient, type PromiseClient } from '#libs/grpc/client.js';
import { roundRobinChannelOptions, type UnavailableRetry } from '#libs/grpc/service-config.js';
import { errorInfoOf } from '#libs/grpc/status.js';
import type { Logger } from '#libs/logging/logger.js';
import {
  CANCEL_RESTOCK_NOTE,
  type AvailabilityOutcome,
  type Destination,
  type InventoryPort,
  type LocationOutcome,
  type ReserveOutcome,
  type SettleOutcome,
  type StockScope,
} from '../domain/inventory-port.js';

type Api = PromiseClient<typeof InventoryServiceService>;

const TRANSIENT = new Set<Code>([
  Code.UNAVAILABLE,
  Code.DEADLINE_EXCEEDED,
  Code.ABORTED,
  Code.RESOURCE_EXHAUSTED,
  Code.INTERNAL,
  Code.UNKNOWN,
  Code.CANCELLED,
]);

/**
 * The calls grpc-js may send again, on another inventory replica, when one
 * answers UNAVAILABLE (its process died mid-call, say). A retried call may have
 * taken effect the first time, so only calls whose repeat changes nothing are
 * listed — each is idempotent by a key the order service sets:
 */
const RETRIED = [
  // Keyed by order id: a repeat returns the first reservation and moves no stock.
  InventoryServiceService.reserveStock,
  // Keyed by order id: committing a committed reservation is a no-op; a later
  // refusal (FAILED_PRECONDITION) is the same answer the first call would give.
  InventoryServiceService.commitReservation,
  // Keyed by order id: releasing a released reservation is a no-op.
  InventoryServiceService.releaseReservation,
  // Keyed by order id: sets expiry to now + ttl; twice is the same as once.
  InventoryServiceService.extendReservation,
  // Keyed by idempotency_key (per order and product): a repeat replays the first restock.
  InventoryServiceService.adjustStock,
  // Reads: GetProduct, BatchGetStockLevels (cart availability), GetLocation (a cart's pickup);
  // GetReservation is not called today, and is as safe.
  InventoryServiceService.getProduct,
  InventoryServiceService.batchGetStockLevels,
  InventoryServiceService.getLocation,
  InventoryServiceService.getReservation,
];

/**
 * ReserveStock's placement fields for a scope: a pickup pins its location
 * (SINGLE_LOCATION), a delivery names its destination (policy unspecified:
 * SPLIT_ALLOWED), no scope neither (every location, as before).
 */
function placementOf(scope: StockScope): Pick<inventoryMessages.ReserveStockRequest, 'locationId' | 'destination' | 'policy'> {
  if (scope && 'locationId' in scope)
    return { locationId: scope.locationId, destination: undefined, policy: AllocationPolicy.ALLOCATION_POLICY_SINGLE_LOCATION };
  if (scope)
    return { locationId: '', destination: destinationOf(scope.destination), policy: AllocationPolicy.ALLOCATION_POLICY_UNSPECIFIED };
  return { locationId: '', destination: undefined, policy: AllocationPolicy.ALLOCATION_POLICY_UNSPECIFIED };
}

/** BatchGetStockLevels' scope fields: one location, or the locations delivering to a destination, or the totals. */
const levelScopeOf = (scope: StockScope): Pick<inventoryMessages.BatchGetStockLevelsRequest, 'locationId' | 'destination'> =>
  scope && 'locationId' in scope
    ? { locationId: scope.locationId, destination: undefined }
    : { locationId: '', destination: scope ? destinationOf(scope.destination) : undefined };

const destinationOf = (destination: Destination): DestinationMessage => ({
  postalCode: destination.postalCode,
  coordinates: destination.coordinates,
});

/** Inventory's reasons for a pinned location that can never fill a reservation. */
const LOCATION_REFUSALS = new Set(['LOCATION_NOT_FOUND', 'LOCATION_INACTIVE']);

/** Up to 4 attempts, 100 ms → 1 s apart; INVENTORY_TIMEOUT_MS bounds them all together. */
const UNAVAILABLE_RETRY: UnavailableRetry = { maxAttempts: 4, initialBackoffMs: 100, maxBackoffMs: 1_000, backoffMultiplier: 2 };

const describe = (error: ServiceError) => `inventory: ${Code[error.code]}: ${error.details}`;

/**
 * The InventoryPort over gRPC: every call carries the order service's API
 * key, a deadline and the correlation id, balanced over every inventory address
 * (round_robin); status codes become outcome values.
 * Codes that say "try again" (and auth misconfiguration, which an operator
 * fixes) become `unavailable`, so orders wait instead of failing.
 */
export function createInventoryClient(options: {
  address: string;
  apiKey: string;
  timeoutMs: number;
  logger: Logger;
}): InventoryPort & { close(): void } {
  const client: Api = createPromiseClient(InventoryServiceService, inventoryMessages, options.address, {
    defaults: { apiKey: options.apiKey, timeoutMs: options.timeoutMs },
    // The address may name several inventory replicas (INVENTORY_ADDR): spread calls over them.
    channelOptions: roundRobinChannelOptions(RETRIED, UNAVAILABLE_RETRY),
  });

  async function call<T>(
    work: () => Promise<T>,
    onError: (error: ServiceError) => T | undefined,
  ): Promise<T | { kind: 'unavailable'; message: string }> {
    try {
      return await work();
    } catch (caught) {
      const error = caught as ServiceError;
      if (typeof error.code !== 'number') throw caught;
      if (error.code === Code.UNAUTHENTICATED || error.code === Code.PERMISSION_DENIED) {
        options.logger.error(
          { code: Code[error.code], details: error.details },
          'inventory refused the order service key: check INVENTORY_API_KEY',
        );
      }
      const mapped = TRANSIENT.has(error.code) ? undefined : onError(error);
      return mapped ?? { kind: 'unavailable', message: describe(error) };
    }
  }

  /**
   * Units available to sell in the scope. A pickup location inventory no
   * longer knows or serves sells nothing (0), rather than passing for an
   * unknown product.
   */
  async function scopedAvailability(productId: string, scope: NonNullable<StockScope>, meta: { correlationId?: string }) {
    try {
      const { stockLevels } = await client.batchGetStockLevels(
        { productIds: [productId], ...levelScopeOf(scope) },
        { correlationId: meta.correlationId },
      );
      return stockLevels[0]?.availableToSell ?? 0;
    } catch (caught) {
      const reason = errorInfoOf(caught as ServiceError)?.reason;
      if (reason && LOCATION_REFUSALS.has(reason)) return 0;
      throw caught;
    }
  }

  const settle = (error: ServiceError): SettleOutcome | undefined => {
    if (error.code === Code.NOT_FOUND) return { kind: 'notFound' };
    if (error.code === Code.FAILED_PRECONDITION) {
      return { kind: 'gone', status: errorInfoOf(error)?.metadata.status ?? 'UNKNOWN', message: describe(error) };
    }
    return undefined;
  };

  return {
    reserve: (orderId, items, ttlMs, meta, scope) =>
      call<ReserveOutcome>(
        async () => {
          const { reservation } = await client.reserveStock(
            { orderId, items, ttl: { seconds: Math.floor(ttlMs / 1000), nanos: (ttlMs % 1000) * 1e6 }, ...placementOf(scope) },
            { correlationId: meta.correlationId },
          );
          const status = reservation!.status;
          if (status !== ReservationStatus.RESERVATION_STATUS_RESERVED && status !== ReservationStatus.RESERVATION_STATUS_COMMITTED) {
            return {
              kind: 'gone',
              status: ReservationStatus[status] ?? String(status),
              message: `reservation of order ${orderId} already ended`,
            };
          }
          return {
            kind: 'reserved',
            items: reservation!.items.map((i) => ({ productId: i.productId, quantity: i.quantity, unitPrice: i.unitPrice! })),
            allocations: reservation!.allocations.map((a) => ({ productId: a.productId, locationId: a.locationId, quantity: a.quantity })),
            expiresAt: reservation!.expireTime,
          };
        },
        (error) => {
          const info = errorInfoOf(error);
          if (error.code === Code.FAILED_PRECONDITION && info?.reason === 'INSUFFICIENT_STOCK') {
            return {
              kind: 'insufficient',
              productId: info.metadata.product_id ?? '',
              available: Number(info.metadata.available ?? 0),
              message: error.details,
            };
          }
          if (scope && 'locationId' in scope && info && LOCATION_REFUSALS.has(info.reason)) {
            return {
              kind: 'locationRefused',
              locationId: scope.locationId,
              reason: info.reason as 'LOCATION_NOT_FOUND' | 'LOCATION_INACTIVE',
              message: describe(error),
            };
          }
          return { kind: 'rejected', message: describe(error) };
        },
      ),
    extend: (orderId, ttlMs, meta) =>
      call<SettleOutcome>(async () => {
        await client.extendReservation(
          { orderId, ttl: { seconds: Math.floor(ttlMs / 1000), nanos: (ttlMs % 1000) * 1e6 } },
          { correlationId: meta.correlationId },
        );
        return { kind: 'done' };
      }, settle),
    commit: (orderId, meta) =>
      call<SettleOutcome>(async () => {
        await client.commitReservation({ orderId }, { correlationId: meta.correlationId });
        return { kind: 'done' };
      }, settle),
    release: (orderId, reason, meta) =>
      call<SettleOutcome>(
        async () => {
          await client.releaseReservation({ orderId, reason: reason.slice(0, 500) }, { correlationId: meta.correlationId });
          return { kind: 'done' };
        },
        // Nothing to release is as good as released.
        (error) => (error.code === Code.NOT_FOUND ? { kind: 'done' } : settle(error)),
      ),
    restock: (productId, quantity, idempotencyKey, meta, locationId) =>
      call<SettleOutcome>(
        async () => {
          await client.adjustStock(
            {
              productId,
              delta: quantity,
              reason: AdjustmentReason.ADJUSTMENT_REASON_RESTOCK,
              idempotencyKey,
              note: CANCEL_RESTOCK_NOTE,
              locationId: locationId ?? '',
            },
            { correlationId: meta.correlationId },
          );
          return { kind: 'done' };
        },
        (error) => (error.code === Code.NOT_FOUND ? { kind: 'notFound' } : undefined),
      ),
    availability: (productId, meta, scope) =>
      call<AvailabilityOutcome>(
        async () => {
          // GetProduct refuses a deleted product (BatchGetStockLevels would still count it);
          // with a scope, the stock there is asked at the same time.
          const [{ product }, scoped] = await Promise.all([
            client.getProduct({ id: productId }, { correlationId: meta.correlationId }),
            scope ? scopedAvailability(productId, scope, meta) : undefined,
          ]);
          return { kind: 'found', available: scoped ?? product!.stockLevel?.availableToSell ?? 0 };
        },
        (error) => (error.code === Code.NOT_FOUND || error.code === Code.INVALID_ARGUMENT ? { kind: 'notFound' } : undefined),
      ),
    location: (locationId, meta) =>
      call<LocationOutcome>(
        async () => {
          const { location } = await client.getLocation({ id: locationId }, { correlationId: meta.correlationId });
          if (!location || location.deleteTime) return { kind: 'notFound' };
          return { kind: 'found', active: location.active ?? true, pickup: location.pickup };
        },
        (error) => (error.code === Code.NOT_FOUND || error.code === Code.INVALID_ARGUMENT ? { kind: 'notFound' } : undefined),
      ),
    close: () => client.close(),
  };
}
