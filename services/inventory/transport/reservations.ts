import type {
  CommitReservationRequest,
  CommitReservationResponse,
  ExtendReservationRequest,
  ExtendReservationResponse,
  GetReservationRequest,
  GetReservationResponse,
  ReleaseReservationRequest,
  ReleaseReservationResponse,
  ReserveStockRequest,
  ReserveStockResponse,
} from '#libs/contracts/larder/inventory/v1/inventory_service.js';
import { invalid } from '#libs/errors/app-error.js';
import type { CallContext } from '#libs/grpc/call-context.js';
import * as v from '#libs/validation/fields.js';
import { toReservationMessage } from '../contract/to-proto.js';
import type { InventoryDeps } from '../domain/deps.js';
import { reserveStock } from '../domain/reservations/reserve-stock.js';
import { extendReservation, getReservation, settleReservation } from '../domain/reservations/settle-reservation.js';

const TTL_BOUNDS = { minMs: 1_000, maxMs: 24 * 60 * 60 * 1000 };

export const reservationHandlers = (deps: InventoryDeps) => ({
  async reserveStock(request: ReserveStockRequest, ctx: CallContext): Promise<ReserveStockResponse> {
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
    const reservation = await reserveStock(deps, ctx, { orderId, items: command, ttlMs });
    return { reservation: toReservationMessage(reservation) };
  },

  async getReservation(request: GetReservationRequest): Promise<GetReservationResponse> {
    return { reservation: toReservationMessage(await getReservation(deps, v.requireUuid('order_id', request.orderId))) };
  },

  async commitReservation(request: CommitReservationRequest, ctx: CallContext): Promise<CommitReservationResponse> {
    const reservation = await settleReservation(deps, ctx, v.requireUuid('order_id', request.orderId), 'COMMITTED');
    return { reservation: toReservationMessage(reservation) };
  },

  async releaseReservation(request: ReleaseReservationRequest, ctx: CallContext): Promise<ReleaseReservationResponse> {
    const orderId = v.requireUuid('order_id', request.orderId);
    const reason = v.text('reason', request.reason, { max: 500 });
    return { reservation: toReservationMessage(await settleReservation(deps, ctx, orderId, 'RELEASED', reason)) };
  },

  async extendReservation(request: ExtendReservationRequest): Promise<ExtendReservationResponse> {
    const orderId = v.requireUuid('order_id', request.orderId);
    const ttlMs = v.durationMs('ttl', request.ttl, TTL_BOUNDS);
    if (ttlMs === undefined) throw invalid('ttl', 'is required');
    return { reservation: toReservationMessage(await extendReservation(deps, orderId, ttlMs)) };
  },
});
