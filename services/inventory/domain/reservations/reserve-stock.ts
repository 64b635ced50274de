import { alreadyExists, failedPrecondition, notFound } from '#libs/errors/app-error.js';
import { requestHash } from '#libs/idempotency/request-hash.js';
import { findReservation, reserveBatch, reservedAs } from '../../data/reservations.js';
import type { RequestContext } from '#libs/context/request-context.js';
import type { InventoryDeps } from '../deps.js';
import type { BatchMember, BatchVerdict } from '../reservation-types.js';
import type { ReservationRecord } from '../types.js';

export interface ReserveStockCommand {
  orderId: string;
  /** Validated: at least one, each product once, quantities positive. */
  items: { productId: string; quantity: number }[];
  ttlMs?: number;
}

/**
 * Reserves every item or none, in one autocommit statement that prices the
 * items from the catalog, claims the order id (a repeat replays the first
 * result), writes items, ledger rows and events, and takes the hot stock rows
 * last, in product-id order (reserve_stock_batch, data/sql/reserve_stock_batch.sql). Concurrent
 * calls share that statement through deps.reservationBatches: one conditional
 * UPDATE per product per batch, granted in arrival order.
 */
export async function reserveStock(deps: InventoryDeps, ctx: RequestContext, command: ReserveStockCommand): Promise<ReservationRecord> {
  const now = deps.clock.now();
  const items = [...command.items].sort((a, b) => (a.productId < b.productId ? -1 : 1));
  const expiresAt = new Date(now.getTime() + (command.ttlMs ?? deps.defaultReservationTtlMs));
  const eventCtx = { correlationId: ctx.correlationId, now };
  const withoutItems: ReservationRecord = {
    orderId: command.orderId,
    status: 'RESERVED',
    items: [],
    expiresAt,
    createdAt: now,
    updatedAt: now,
  };
  const member: BatchMember = {
    orderId: command.orderId,
    requestHash: requestHash(items.map((i) => [i.productId, i.quantity])),
    now,
    expiresAt,
    items,
    event: deps.events.reservedEventParts(eventCtx, withoutItems),
    stockLow: deps.events.stockLowRouting,
  };
  const verdict = deps.reservationBatches ? await deps.reservationBatches.submit(member) : (await reserveBatch(deps.db, [member]))[0]!;
  if (verdict.kind === 'reserved') deps.afterCommit();
  return outcome(member, verdict.kind === 'short' ? await shortOrTaken(deps, member, verdict) : verdict);
}

/**
 * A short verdict may come from a statement that looked for the order's
 * reservation before it waited for the stock locks of a concurrent call that
 * was reserving the same order (a retry): that call's reservation took the
 * stock and has committed by the time the locks were granted. Read again, so
 * the repeat is answered as a repeat (replay, or reused for other items), not
 * as insufficient stock. Only short answers pay for the read.
 */
async function shortOrTaken(deps: InventoryDeps, member: BatchMember, short: BatchVerdict): Promise<BatchVerdict> {
  const existing = await findReservation(deps.db, member.orderId);
  if (!existing) return short;
  return existing.requestHash === member.requestHash ? { kind: 'replay', reservation: existing } : { kind: 'reused' };
}

/** The caller's answer: its reservation (new or replayed), or why not. */
function outcome(member: BatchMember, verdict: BatchVerdict): ReservationRecord {
  switch (verdict.kind) {
    case 'reserved':
      return reservedAs(member, verdict.unitPrices);
    case 'replay':
      return verdict.reservation;
    case 'reused':
      throw alreadyExists(`order ${member.orderId} already has a reservation with different items`, {
        reason: 'IDEMPOTENCY_KEY_REUSED',
        field: 'order_id',
        metadata: { order_id: member.orderId },
      });
    case 'missing':
      throw notFound('product', verdict.productId);
    case 'deleted':
      throw failedPrecondition(`product ${verdict.productId} is deleted and cannot be reserved`, {
        reason: 'PRODUCT_DELETED',
        metadata: { product_id: verdict.productId },
      });
    case 'short':
      throw failedPrecondition(
        `insufficient stock for product ${verdict.productId}: requested ${verdict.requested}, available ${verdict.available}`,
        {
          reason: 'INSUFFICIENT_STOCK',
          metadata: { product_id: verdict.productId, requested: String(verdict.requested), available: String(verdict.available) },
        },
      );
  }
}
