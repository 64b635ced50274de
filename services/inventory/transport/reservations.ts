import { AllocationPolicy } from '#libs/contracts/larder/inventory/v1/locations.js';
import { invalid } from '#libs/errors/app-error.js';
import { rpcError } from '#libs/grpc/rpc-errors.js';
import * as v from '#libs/validation/fields.js';
import { toReservationMessage } from '../contract/to-proto.js';
import { reserveStock } from '../domain/reservations/reserve-stock.js';
import { extendReservation, getReservation, settleReservation } from '../domain/reservations/settle-reservation.js';
import { destinationOf } from './destination.js';
import { illegalTransition, keyReused, locationInactive, locationNotFound, productNotFound, reservationNotFound } from './rpc-errors.js';
import type { InventoryRpcs } from './scopes.js';

const TTL_BOUNDS = { minMs: 1_000, maxMs: 24 * 60 * 60 * 1000 };
/** Commit, Release and Extend: the reservation must exist and be in a status the move allows. */
const settled = [reservationNotFound, illegalTransition];

const policies = {
  [AllocationPolicy.ALLOCATION_POLICY_SINGLE_LOCATION]: 'SINGLE_LOCATION',
  [AllocationPolicy.ALLOCATION_POLICY_SPLIT_ALLOWED]: 'SPLIT_ALLOWED',
} as const;

/** ReserveStock's routing input (docs/design.md §8): a pinned location, or a destination and a policy, all optional. */
function routingOf(request: { locationId: string; destination?: Parameters<typeof destinationOf>[1]; policy: AllocationPolicy }) {
  const locationId = v.optionalUuid('location_id', request.locationId);
  const destination = destinationOf('destination', request.destination);
  const policy =
    request.policy === AllocationPolicy.ALLOCATION_POLICY_UNSPECIFIED
      ? undefined
      : policies[v.enumValue('policy', request.policy, AllocationPolicy) as keyof typeof policies];
  if (locationId && destination) throw invalid('destination', 'give location_id or destination, not both');
  if (locationId && policy === 'SPLIT_ALLOWED') throw invalid('policy', 'SPLIT_ALLOWED contradicts a pinned location_id');
  return { locationId, destination, policy };
}

/** The reservation RPCs: each one's scope, errors and handler. */
export const reservationRpcs = {
  reserveStock: {
    scope: 'reservations',
    errors: [
      productNotFound,
      rpcError('FAILED_PRECONDITION', 'PRODUCT_DELETED', 'a product is deleted and cannot be reserved'),
      rpcError(
        'FAILED_PRECONDITION',
        'INSUFFICIENT_STOCK',
        'no allocation fills every item; metadata holds the first short product_id, requested and available, and `lines` per item',
      ),
      locationNotFound,
      locationInactive,
      keyReused,
    ],
    async handle(deps, request, ctx) {
      const orderId = v.requireUuid('order_id', request.orderId);
      const items = v.listSize('items', request.items, { min: 1, max: 100 });
      const seen = new Set<string>();
      const command = items.map((item, index) => {
        const productId = v.requireUuid(`items[${index}].product_id`, item.productId);
        if (seen.has(productId)) throw invalid(`items[${index}].product_id`, `repeats product ${productId}; list each product once`);
        seen.add(productId);
        return { productId, quantity: v.integer(`items[${index}].quantity`, item.quantity, { min: 1, max: 10_000 }) };
      });
      const ttlMs = v.durationMs('ttl', request.ttl, TTL_BOUNDS);
      const reservation = await reserveStock(deps, ctx, { orderId, items: command, ttlMs, ...routingOf(request) });
      return { reservation: toReservationMessage(reservation) };
    },
  },

  getReservation: {
    scope: 'reservations',
    errors: [reservationNotFound],
    async handle(deps, request) {
      return { reservation: toReservationMessage(await getReservation(deps, v.requireUuid('order_id', request.orderId))) };
    },
  },

  commitReservation: {
    scope: 'reservations',
    errors: settled,
    async handle(deps, request, ctx) {
      const reservation = await settleReservation(deps, ctx, v.requireUuid('order_id', request.orderId), 'COMMITTED');
      return { reservation: toReservationMessage(reservation) };
    },
  },

  releaseReservation: {
    scope: 'reservations',
    errors: settled,
    async handle(deps, request, ctx) {
      const orderId = v.requireUuid('order_id', request.orderId);
      const reason = v.text('reason', request.reason, { max: 500 });
      return { reservation: toReservationMessage(await settleReservation(deps, ctx, orderId, 'RELEASED', reason)) };
    },
  },

  extendReservation: {
    scope: 'reservations',
    errors: settled,
    async handle(deps, request) {
      const orderId = v.requireUuid('order_id', request.orderId);
      const ttlMs = v.durationMs('ttl', request.ttl, TTL_BOUNDS);
      if (ttlMs === undefined) throw invalid('ttl', 'is required');
      return { reservation: toReservationMessage(await extendReservation(deps, orderId, ttlMs)) };
    },
  },
} satisfies InventoryRpcs;
