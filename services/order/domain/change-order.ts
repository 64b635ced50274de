import type { Tx } from '#libs/db/types.js';
import { aborted } from '#libs/errors/app-error.js';
import { appendToOutbox } from '#libs/events/outbox.js';
import { appendOrderEvent } from '../data/order-events.js';
import { findOrder, writeOrderPatch } from '../data/orders.js';
import { assertTransition } from './order-status.js';
import type { OrderDeps } from './deps.js';
import type { OrderPatch, WriteGuard } from './order-write-types.js';
import type { OrderEventRecord, OrderRecord } from './types.js';

/** Raised when the write guard no longer holds: another worker or request owns the order now. */
export class OrderOwnershipLost extends Error {
  constructor(orderId: string) {
    super(`order ${orderId} changed under us; this step's result was discarded`);
    this.name = 'OrderOwnershipLost';
  }
}

export interface ChangeNote {
  reason: string;
  error?: string;
  correlationId?: string;
}

/**
 * The one way an order changes: a guarded update, and when the status moves,
 * the state machine's check, an order-log entry and the status event — all in
 * the caller's transaction. Returns the order as written and the log entry.
 */
export async function changeOrder(
  deps: Pick<OrderDeps, 'events'>,
  trx: Tx,
  order: OrderRecord,
  guard: WriteGuard,
  patch: OrderPatch,
  note: ChangeNote,
  now: Date,
): Promise<{ order: OrderRecord; event?: OrderEventRecord }> {
  const moving = patch.status !== undefined && patch.status !== order.status;
  if (moving) assertTransition(order.status, patch.status!);
  if (!(await writeOrderPatch(trx, order.id, guard, patch, now))) {
    if (guard !== 'none' && 'version' in guard) {
      throw aborted(`order ${order.id} was changed concurrently; read it again`, { reason: 'ETAG_MISMATCH' });
    }
    throw new OrderOwnershipLost(order.id);
  }
  const updated = (await findOrder(trx, order.id, { includeDeleted: true }))!;
  if (!moving) return { order: updated };
  const event = await appendOrderEvent(trx, {
    orderId: order.id,
    fromStatus: order.status,
    toStatus: updated.status,
    reason: note.reason,
    error: note.error,
    correlationId: note.correlationId,
    createdAt: now,
  });
  await appendToOutbox(trx, [deps.events.orderStatus(updated, { correlationId: note.correlationId, now })]);
  return { order: updated, event };
}
