import type { Knex } from 'knex';
import { readAdjustmentsByKey, readReservationAllocationsOf, readReservationsAfter } from '../../services/inventory/operator.js';
import { cancelRestocksDueOf, readOrderAllocationsOf, readOrdersAfter } from '../../services/order/operator.js';
import { chunks, keysetRows, mergeByKey } from './pairs.js';
import { judge, type Pair, type Repair } from './rules.js';

/** One pair that disagrees, as the reconciler reports it. */
export interface Disagreement {
  /** The order's id, or null for a reservation without an order. */
  orderId: string | null;
  /** The reservation's key (reservations are keyed by order id), or null when inventory has none. */
  reservationId: string | null;
  orderStatus: string | null;
  reservationStatus: string | null;
  problem: string;
  repair: Repair;
}

export interface Comparison {
  orders: number;
  reservations: number;
  /** Pairs that disagree but moved within the grace period (work in flight). */
  inFlight: number;
  disagreements: Disagreement[];
}

export interface CompareOptions {
  now: Date;
  graceMs: number;
  pageSize: number;
}

/** Reads the items and their cancel restocks of the chunk's cancelled orders whose stock stayed sold. */
async function withCancelRestocks(orderDb: Knex, inventoryDb: Knex, pairs: Pair[]): Promise<Pair[]> {
  const cancelledSold = pairs.filter((p) => p.order?.status === 'CANCELLED' && p.reservation?.status === 'COMMITTED');
  if (cancelledSold.length === 0) return pairs;
  const due = await cancelRestocksDueOf(
    orderDb,
    cancelledSold.map((p) => p.order!.id),
  );
  const keys = [...due.values()].flatMap((list) => list.map((restock) => restock.idempotencyKey));
  const adjustments = await readAdjustmentsByKey(inventoryDb, keys);
  return pairs.map((pair) => {
    if (!cancelledSold.includes(pair)) return pair;
    const cancelRestocks = (due.get(pair.order!.id) ?? []).map((item) => {
      const adjustment = adjustments.get(item.idempotencyKey);
      return { ...item, restockedUnits: adjustment?.productId === item.productId ? adjustment.delta : 0 };
    });
    return { ...pair, cancelRestocks };
  });
}

/** Reads both sides' allocation lines of the chunk's pairs whose order recorded its allocation. */
async function withAllocations(orderDb: Knex, inventoryDb: Knex, pairs: Pair[]): Promise<Pair[]> {
  const both = pairs.filter((p) => p.order && p.reservation).map((p) => p.order!.id);
  const ours = await readOrderAllocationsOf(orderDb, both);
  if (ours.size === 0) return pairs;
  const theirs = await readReservationAllocationsOf(inventoryDb, [...ours.keys()]);
  return pairs.map((pair) => {
    const order = pair.order && ours.get(pair.order.id);
    return order && pair.reservation ? { ...pair, allocations: { order, reservation: theirs.get(pair.order!.id) ?? [] } } : pair;
  });
}

/** Compares every order with its reservation; keeps only the disagreements in memory. */
export async function compareAll(orderDb: Knex, inventoryDb: Knex, options: CompareOptions): Promise<Comparison> {
  const orders = keysetRows(
    (after, limit) => readOrdersAfter(orderDb, after, limit),
    (o) => o.id,
    options.pageSize,
  );
  const reservations = keysetRows(
    (after, limit) => readReservationsAfter(inventoryDb, after, limit),
    (r) => r.orderId,
    options.pageSize,
  );
  const result: Comparison = { orders: 0, reservations: 0, inFlight: 0, disagreements: [] };
  const merged = mergeByKey(
    orders,
    reservations,
    (o) => o.id,
    (r) => r.orderId,
  );
  for await (const chunk of chunks(merged, options.pageSize)) {
    const pairs = await withAllocations(
      orderDb,
      inventoryDb,
      await withCancelRestocks(
        orderDb,
        inventoryDb,
        chunk.map(({ left, right }) => ({ order: left, reservation: right })),
      ),
    );
    for (const pair of pairs) {
      if (pair.order) result.orders += 1;
      if (pair.reservation) result.reservations += 1;
      const verdict = judge(pair, options.now, options.graceMs);
      if (verdict.kind === 'inFlight') result.inFlight += 1;
      if (verdict.kind !== 'disagree') continue;
      result.disagreements.push({
        orderId: pair.order?.id ?? null,
        reservationId: pair.reservation?.orderId ?? null,
        orderStatus: pair.order?.status ?? null,
        reservationStatus: pair.reservation?.status ?? null,
        problem: verdict.problem,
        repair: verdict.repair,
      });
    }
  }
  return result;
}
