import { alreadyExists, failedPrecondition, notFound } from '#libs/errors/app-error.js';
import { requestHash } from '#libs/idempotency/request-hash.js';
import { findReservation, reserveBatch, reservedAs } from '../../data/reservations.js';
import type { RequestContext } from '#libs/context/request-context.js';
import type { InventoryDeps } from '../deps.js';
import type { AllocationPolicy, DestinationRecord } from '../location-types.js';
import { rankLocations } from '../locations/rank-locations.js';
import type { BatchMember, BatchVerdict } from '../reservation-types.js';
import type { ReservationRecord } from '../types.js';

export interface ReserveStockCommand {
  orderId: string;
  /** Validated: at least one, each product once, quantities positive. */
  items: { productId: string; quantity: number }[];
  ttlMs?: number;
  /** Reserve at this location only (validated: not with destination or SPLIT_ALLOWED). */
  locationId?: string;
  /** Route over the locations that deliver here. */
  destination?: DestinationRecord;
  /** Unset: SINGLE_LOCATION when pinned, else SPLIT_ALLOWED. */
  policy?: AllocationPolicy;
}

/** Where a member may be reserved: the ranked candidates, and how (docs/design.md §8). */
async function routeOf(deps: InventoryDeps, command: ReserveStockCommand): Promise<Pick<BatchMember, 'candidates' | 'split' | 'pinned'>> {
  if (command.locationId) {
    if (!(await deps.locations.find(command.locationId))) throw notFound('location', command.locationId);
    return { candidates: [command.locationId], split: false, pinned: true };
  }
  const ranked = rankLocations(await deps.locations.all(), command.destination);
  return { candidates: ranked.map((l) => l.id), split: command.policy !== 'SINGLE_LOCATION', pinned: false };
}

/**
 * The request a repeat must match: the items, and the routing input when there
 * is any (so a reservation made before locations, and its retries, keep their hash).
 */
function hashOf(command: ReserveStockCommand, items: ReserveStockCommand['items']): string {
  const itemPart = items.map((i) => [i.productId, i.quantity]);
  if (!command.locationId && !command.destination && !command.policy) return requestHash(itemPart);
  const { postalCode, coordinates } = command.destination ?? {};
  return requestHash([
    itemPart,
    command.locationId ?? '',
    postalCode ?? '',
    coordinates ? [coordinates.latitude, coordinates.longitude] : '',
    command.policy ?? '',
  ]);
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
    allocations: [],
    expiresAt,
    createdAt: now,
    updatedAt: now,
  };
  const member: BatchMember = {
    orderId: command.orderId,
    requestHash: hashOf(command, items),
    now,
    expiresAt,
    items,
    ...(await routeOf(deps, command)),
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

/** Why no allocation fits, in words: the first item with too little, or that no one location has them all. */
function shortMessage(member: BatchMember, short: Extract<BatchVerdict, { kind: 'short' }>): string {
  if (member.candidates.length === 0) return 'insufficient stock: no active location serves the destination';
  const tooLittle = short.lines.some((l) => l.available < l.requested);
  if (!tooLittle) return 'insufficient stock: no single location has every item (SPLIT_ALLOWED would split the reservation)';
  return `insufficient stock for product ${short.productId}: requested ${short.requested}, available ${short.available}`;
}

/** The caller's answer: its reservation (new or replayed), or why not. */
function outcome(member: BatchMember, verdict: BatchVerdict): ReservationRecord {
  switch (verdict.kind) {
    case 'reserved':
      return reservedAs(member, verdict.unitPrices, verdict.allocations);
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
    case 'inactive':
      throw failedPrecondition(`location ${verdict.locationId} is inactive and takes no new reservations`, {
        reason: 'LOCATION_INACTIVE',
        field: 'location_id',
        metadata: { location_id: verdict.locationId },
      });
    case 'short':
      throw failedPrecondition(shortMessage(member, verdict), {
        reason: 'INSUFFICIENT_STOCK',
        metadata: {
          product_id: verdict.productId,
          requested: String(verdict.requested),
          available: String(verdict.available),
          lines: JSON.stringify(verdict.lines.map((l) => ({ product_id: l.productId, requested: l.requested, available: l.available }))),
        },
        // Every item, with the best there is for it (google.rpc.PreconditionFailure), as transfers answer too.
        violations: verdict.lines.map((l) => ({
          type: 'INSUFFICIENT_STOCK',
          subject: `product/${l.productId}`,
          description: `${l.requested} requested, ${l.available} available`,
        })),
      });
  }
}
