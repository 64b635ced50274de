/**
 * The agreement table of the reconciler: what an order's status says its
 * reservation must be, pure (no I/O, the clock passed in), so every cell has a
 * unit test (scripts/test/unit/reconcile-rules.test.ts).
 *
 *   order                          reservation that agrees
 *   PENDING, AWAITING_STOCK        none, or RESERVED and not expired (a step in flight)
 *   RESERVED                       RESERVED and not expired
 *   CONFIRMED, SHIPPED, DELIVERED  COMMITTED
 *   CANCELLED, FAILED              none, RELEASED or EXPIRED
 *   CANCELLED                      also COMMITTED, when every item was restocked under the
 *                                  saga's key (a confirmed order's cancel restocks, the
 *                                  reservation stays sold: services/order/saga/cancel-step.ts)
 *   (no order)                     RELEASED or EXPIRED (nothing held, nothing sold)
 *
 * And where: an order that recorded its allocation (once reserved) must hold,
 * per (product, location), the units its reservation's lines hold there.
 *
 * A pair that disagrees while either side moved within the grace period (or a
 * saga step holds the order's lease) is work in flight, not a disagreement.
 */
import type { ReservationStatus } from '../../services/inventory/operator.js';
import type { OrderStatus } from '../../services/order/operator.js';

export interface OrderSide {
  id: string;
  status: OrderStatus;
  updatedAt: Date;
  leaseUntil: Date | null;
}

export interface ReservationSide {
  orderId: string;
  status: ReservationStatus;
  expiresAt: Date;
  updatedAt: Date;
}

/**
 * One item (one allocation line, when the order recorded them) of a cancelled,
 * committed order, and the units its cancel restock added (0: none under its key).
 */
export interface CancelRestock {
  productId: string;
  quantity: number;
  restockedUnits: number;
  /** Where the units go back (an allocation line's location); unset: the default location. */
  locationId?: string;
  /** The cancel step's key for this restock; unset: the per-product key. */
  idempotencyKey?: string;
}

/** Units of a product at a location: an order's allocation line, or a reservation's. */
export interface AllocationLine {
  productId: string;
  locationId: string;
  quantity: number;
}

/** An order and the reservation under its id; at least one of them exists. */
export interface Pair {
  order?: OrderSide;
  reservation?: ReservationSide;
  /** Both sides' allocation lines, when the order recorded its allocation and inventory has the reservation. */
  allocations?: { order: readonly AllocationLine[]; reservation: readonly AllocationLine[] };
  /** Only for a CANCELLED order whose reservation is COMMITTED: its items and their restocks. */
  cancelRestocks?: readonly CancelRestock[];
}

/** The compensation the public inventory API can safely apply (idempotent calls), or none: a human decides. */
export type Repair =
  | { action: 'release' }
  | { action: 'commit' }
  | { action: 'restock'; items: { productId: string; quantity: number; locationId?: string; idempotencyKey?: string }[] }
  | { action: 'none' };

export type Verdict = { kind: 'agree' } | { kind: 'inFlight'; problem: string } | { kind: 'disagree'; problem: string; repair: Repair };

const NO_REPAIR: Repair = { action: 'none' };
const SOLD: ReadonlySet<OrderStatus> = new Set(['CONFIRMED', 'SHIPPED', 'DELIVERED']);

interface Mismatch {
  problem: string;
  repair: Repair;
}

const isExpired = (r: ReservationSide, now: Date) => r.status === 'RESERVED' && r.expiresAt <= now;

const unswept = (r: ReservationSide): Mismatch => ({
  problem: `reservation expired at ${r.expiresAt.toISOString()} but still holds its stock (is the inventory sweeper running?)`,
  repair: NO_REPAIR,
});

function withoutOrder(r: ReservationSide): Mismatch | undefined {
  if (r.status === 'RESERVED')
    return { problem: 'reservation holds stock for an order that does not exist', repair: { action: 'release' } };
  if (r.status === 'COMMITTED') return { problem: 'stock was sold to an order that does not exist', repair: NO_REPAIR };
  return undefined;
}

function cancelledAfterSale(restocks: readonly CancelRestock[] | undefined): Mismatch | undefined {
  const items = restocks ?? [];
  const wrong = items.filter((i) => i.restockedUnits !== 0 && i.restockedUnits !== i.quantity);
  if (wrong.length > 0) {
    const which = wrong.map((i) => `${i.productId}: ${i.restockedUnits} of ${i.quantity}`).join(', ');
    return { problem: `order was cancelled after it was sold, and its restock added the wrong units (${which})`, repair: NO_REPAIR };
  }
  const missing = items.filter((i) => i.restockedUnits === 0);
  if (items.length > 0 && missing.length === 0) return undefined;
  if (items.length === 0) return { problem: 'order was cancelled after it was sold, and it has no items to restock', repair: NO_REPAIR };
  return {
    problem: `order was cancelled after it was sold, but ${missing.length} of its ${items.length} product(s) never went back on the shelf`,
    repair: {
      action: 'restock',
      items: missing.map(({ restockedUnits: _none, ...item }) => item),
    },
  };
}

/** Units per `product@location`, summed (either side may list a pair more than once). */
function unitsByPlace(lines: readonly AllocationLine[]): Map<string, number> {
  const units = new Map<string, number>();
  for (const line of lines) {
    const place = `${line.productId}@${line.locationId}`;
    units.set(place, (units.get(place) ?? 0) + line.quantity);
  }
  return units;
}

/** Where the order says its units are reserved against where inventory holds them; undefined when they match. */
export function allocationMismatch(allocations: Pair['allocations']): Mismatch | undefined {
  if (!allocations) return undefined;
  const ours = unitsByPlace(allocations.order);
  const theirs = unitsByPlace(allocations.reservation);
  const differing = [...new Set([...ours.keys(), ...theirs.keys()])]
    .sort()
    .filter((place) => (ours.get(place) ?? 0) !== (theirs.get(place) ?? 0))
    .map((place) => `${place}: order ${ours.get(place) ?? 0}, reservation ${theirs.get(place) ?? 0}`);
  if (differing.length === 0) return undefined;
  return { problem: `order's allocation differs from its reservation's (${differing.join('; ')})`, repair: NO_REPAIR };
}

/** What is wrong with a pair, ignoring time; undefined when the two sides agree. */
export function mismatchOf(pair: Pair, now: Date): Mismatch | undefined {
  return statusMismatchOf(pair, now) ?? allocationMismatch(pair.allocations);
}

function statusMismatchOf(pair: Pair, now: Date): Mismatch | undefined {
  const { order: o, reservation: r } = pair;
  if (!o) return r ? withoutOrder(r) : undefined;
  if (o.status === 'PENDING' || o.status === 'AWAITING_STOCK') {
    if (!r) return undefined;
    if (r.status === 'RESERVED') return isExpired(r, now) ? unswept(r) : undefined;
    return { problem: `order is still ${o.status} though its reservation ended ${r.status}`, repair: NO_REPAIR };
  }
  if (o.status === 'RESERVED') {
    if (!r) return { problem: 'order is RESERVED but inventory holds no reservation for it', repair: NO_REPAIR };
    if (r.status === 'RESERVED') return isExpired(r, now) ? unswept(r) : undefined;
    return { problem: `order is still RESERVED though its reservation is ${r.status}`, repair: NO_REPAIR };
  }
  if (SOLD.has(o.status)) {
    if (r?.status === 'COMMITTED') return undefined;
    if (!r) return { problem: `order is ${o.status} but inventory has no reservation for it`, repair: NO_REPAIR };
    if (r.status === 'RESERVED') {
      if (isExpired(r, now)) return { problem: `order is ${o.status} but its reservation expired uncommitted`, repair: NO_REPAIR };
      return { problem: `order is ${o.status} but its stock was only reserved, never committed`, repair: { action: 'commit' } };
    }
    return { problem: `order is ${o.status} (paid) but its stock went back on the shelf`, repair: NO_REPAIR };
  }
  // CANCELLED or FAILED
  if (!r || r.status === 'RELEASED' || r.status === 'EXPIRED') return undefined;
  if (r.status === 'RESERVED')
    return { problem: `order is ${o.status} but its reservation still holds stock`, repair: { action: 'release' } };
  if (o.status === 'CANCELLED') return cancelledAfterSale(pair.cancelRestocks);
  return { problem: 'order FAILED but its stock was sold (committed)', repair: NO_REPAIR };
}

/** Either side changed within the grace period, a step holds the order, or the reservation only just expired. */
export function isRecent(pair: Pair, now: Date, graceMs: number): boolean {
  const { order: o, reservation: r } = pair;
  if (o?.leaseUntil && o.leaseUntil > now) return true;
  const since = now.getTime() - graceMs;
  const moments = [o?.updatedAt, r?.updatedAt, r && isExpired(r, now) ? r.expiresAt : undefined];
  return moments.some((moment) => moment !== undefined && moment.getTime() > since);
}

export function judge(pair: Pair, now: Date, graceMs: number): Verdict {
  const mismatch = mismatchOf(pair, now);
  if (!mismatch) return { kind: 'agree' };
  if (isRecent(pair, now, graceMs)) return { kind: 'inFlight', problem: mismatch.problem };
  return { kind: 'disagree', ...mismatch };
}
