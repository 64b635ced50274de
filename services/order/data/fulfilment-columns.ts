import type { AllocationRecord, Fulfilment, ShippingAddress } from '../domain/types.js';

/**
 * The jsonb forms of a fulfilment (orders.fulfilment, carts.fulfilment) and of
 * an order's allocation lines (orders.allocations). An order keeps a
 * delivery's address in its shipping_address column only (UpdateOrder changes
 * it there), so its fulfilment column holds the rest; a cart has no other
 * address column and keeps the whole fulfilment.
 */

type StoredFulfilment =
  | { kind: 'delivery'; address?: ShippingAddress; coordinates?: { latitude: number; longitude: number } }
  | { kind: 'pickup'; locationId: string };

/** The column's value: null for none; `addressElsewhere` leaves a delivery's address out (the order's shipping_address holds it). */
export function fulfilmentColumn(fulfilment: Fulfilment | undefined, addressElsewhere: boolean): string | null {
  if (!fulfilment) return null;
  if (fulfilment.kind === 'pickup') return JSON.stringify({ kind: 'pickup', locationId: fulfilment.locationId });
  return JSON.stringify({
    kind: 'delivery',
    ...(addressElsewhere ? {} : { address: fulfilment.address }),
    ...(fulfilment.coordinates ? { coordinates: fulfilment.coordinates } : {}),
  });
}

/** The record from the column (and, for an order, its shipping_address: a delivery's address). */
export function fulfilmentOf(stored: StoredFulfilment | null, shippingAddress?: ShippingAddress | null): Fulfilment | undefined {
  if (!stored) return undefined;
  if (stored.kind === 'pickup') return { kind: 'pickup', locationId: stored.locationId };
  const address = shippingAddress ?? stored.address;
  if (!address) return undefined;
  return { kind: 'delivery', address, ...(stored.coordinates ? { coordinates: stored.coordinates } : {}) };
}

export type { StoredFulfilment };

/** orders.allocations: the lines in the reservation's order (by product, then location). */
export const allocationsColumn = (allocations: readonly AllocationRecord[]): string =>
  JSON.stringify(allocations.map((a) => ({ productId: a.productId, locationId: a.locationId, quantity: a.quantity })));
