import type { Money } from '#libs/money/money.js';
import type { AllocationRecord, Fulfilment, LatLng } from './types.js';

/**
 * What the order service needs from inventory, as values rather than gRPC
 * errors. The adapter (inventory/grpc-client.ts) maps status codes onto these.
 */
export type ReserveOutcome =
  | {
      kind: 'reserved';
      items: { productId: string; quantity: number; unitPrice: Money }[];
      /** Where each unit is held (the reservation's allocation lines); unset or empty from an inventory without locations. */
      allocations?: AllocationRecord[];
      expiresAt?: Date;
    }
  | { kind: 'insufficient'; productId: string; available: number; message: string }
  /** The pinned (pickup) location is unknown (LOCATION_NOT_FOUND) or deactivated (LOCATION_INACTIVE): never fills this order. */
  | { kind: 'locationRefused'; locationId: string; reason: 'LOCATION_NOT_FOUND' | 'LOCATION_INACTIVE'; message: string }
  /** Can never succeed: unknown or deleted product, key clash. */
  | { kind: 'rejected'; message: string }
  /** The order's reservation exists but already ended (expired or released): it cannot be used again. */
  | { kind: 'gone'; status: string; message: string }
  /** Inventory unreachable, timed out, or busy: try again later. */
  | { kind: 'unavailable'; message: string };

export type SettleOutcome =
  | { kind: 'done' }
  /** The reservation is not RESERVED any more (expired, released, committed): status says which. */
  | { kind: 'gone'; status: string; message: string }
  | { kind: 'notFound' }
  | { kind: 'unavailable'; message: string };

export type AvailabilityOutcome = { kind: 'found'; available: number } | { kind: 'notFound' } | { kind: 'unavailable'; message: string };

/** What inventory says of a location a cart names for pickup. */
export type LocationOutcome =
  | { kind: 'found'; active: boolean; pickup: boolean }
  /** Unknown or deleted. */
  | { kind: 'notFound' }
  | { kind: 'unavailable'; message: string };

/** A delivery destination, as routing matches it against the locations' delivery areas. */
export interface Destination {
  postalCode: string;
  coordinates?: LatLng;
}

/**
 * Where stock is looked for: one location (a pickup: reserved there only,
 * policy SINGLE_LOCATION), the locations that deliver to a destination (a
 * delivery: split allowed, nearest first), or undefined: every location (an
 * order or cart without a fulfilment, as before locations).
 */
export type StockScope = { locationId: string } | { destination: Destination } | undefined;

/** The scope a fulfilment reserves and checks availability in. */
export function stockScopeOf(fulfilment: Fulfilment | undefined): StockScope {
  if (!fulfilment) return undefined;
  if (fulfilment.kind === 'pickup') return { locationId: fulfilment.locationId };
  return {
    destination: { postalCode: fulfilment.address.postalCode, ...(fulfilment.coordinates ? { coordinates: fulfilment.coordinates } : {}) },
  };
}

/**
 * The idempotency key of the restock that puts one product of a cancelled,
 * already confirmed order back on the shelf: the saga's cancel step sends it,
 * and the reconciler (scripts/reconcile) finds, or repeats, that same restock by it.
 */
export const cancelRestockKey = (orderId: string, productId: string, locationId?: string): string =>
  locationId ? `order-cancel-${orderId}-${productId}-${locationId}` : `order-cancel-${orderId}-${productId}`;

/** One restock the cancel step sends: units of a product, to the location they were sold from (none: the default location). */
export interface CancelRestock {
  productId: string;
  quantity: number;
  locationId?: string;
  idempotencyKey: string;
}

/**
 * The restocks that put a cancelled, confirmed order's units back where they
 * came from: one per allocation line, at its location; an order without
 * allocations (reserved before locations) one per item, at the default
 * location. The key stays `order-cancel-<order>-<product>` unless a product was
 * split over locations (then each line's key names its location too), so a
 * restock sent before locations existed is found again under the same key.
 */
export function cancelRestocksOf(
  orderId: string,
  items: readonly { productId: string; quantity: number }[],
  allocations: readonly AllocationRecord[] | undefined,
): CancelRestock[] {
  if (!allocations || allocations.length === 0)
    return items.map((i) => ({ productId: i.productId, quantity: i.quantity, idempotencyKey: cancelRestockKey(orderId, i.productId) }));
  const lines = new Map<string, number>();
  for (const a of allocations) lines.set(a.productId, (lines.get(a.productId) ?? 0) + 1);
  return allocations.map((a) => ({
    productId: a.productId,
    quantity: a.quantity,
    locationId: a.locationId,
    idempotencyKey: cancelRestockKey(orderId, a.productId, lines.get(a.productId)! > 1 ? a.locationId : undefined),
  }));
}

/** The note of that restock (not part of its idempotency, but the ledger reads better with one wording). */
export const CANCEL_RESTOCK_NOTE = 'returned by a cancelled order';

export interface CallMeta {
  correlationId?: string;
}

export interface InventoryPort {
  reserve(
    orderId: string,
    items: { productId: string; quantity: number }[],
    ttlMs: number,
    meta: CallMeta,
    scope?: StockScope,
  ): Promise<ReserveOutcome>;
  extend(orderId: string, ttlMs: number, meta: CallMeta): Promise<SettleOutcome>;
  commit(orderId: string, meta: CallMeta): Promise<SettleOutcome>;
  release(orderId: string, reason: string, meta: CallMeta): Promise<SettleOutcome>;
  /** Puts units of a cancelled, already committed order back on the shelf (idempotent on key), at a location (none: the default one). */
  restock(productId: string, quantity: number, idempotencyKey: string, meta: CallMeta, locationId?: string): Promise<SettleOutcome>;
  /**
   * Units available to sell now, for the cart's soft check: in the scope (at
   * a pickup location, or over the locations delivering to a destination), or
   * the product's totals; notFound for unknown or deleted products.
   */
  availability(productId: string, meta: CallMeta, scope?: StockScope): Promise<AvailabilityOutcome>;
  /** A location a cart names for pickup: whether it exists, is active and offers pickup. */
  location(locationId: string, meta: CallMeta): Promise<LocationOutcome>;
}
