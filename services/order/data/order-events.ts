import type { Knex } from 'knex';
import type { Db } from '#libs/db/types.js';
import type { OrderEventRecord, OrderStatus } from '../domain/types.js';

/**
 * Appends to the order log. Call after updating the order row in the same
 * transaction: that row lock serialises appends per order, so sequences are
 * gap-free and never collide.
 */
export async function appendOrderEvent(trx: Knex.Transaction, event: Omit<OrderEventRecord, 'sequence'>): Promise<OrderEventRecord> {
  const [row] = await trx('order_events')
    .insert({
      order_id: event.orderId,
      sequence: trx('order_events').where({ order_id: event.orderId }).select(trx.raw('coalesce(max(sequence), 0) + 1')),
      from_status: event.fromStatus ?? null,
      to_status: event.toStatus,
      reason: event.reason,
      error: event.error ?? null,
      correlation_id: event.correlationId ?? null,
      created_at: event.createdAt,
    })
    .returning('sequence');
  return { ...event, sequence: row.sequence };
}

export async function listOrderEvents(db: Db, orderId: string, afterSequence = 0): Promise<OrderEventRecord[]> {
  const rows = await db('order_events').where({ order_id: orderId }).andWhere('sequence', '>', afterSequence).orderBy('sequence');
  return rows.map((row) => ({
    orderId: row.order_id,
    sequence: row.sequence,
    fromStatus: (row.from_status as OrderStatus | null) ?? undefined,
    toStatus: row.to_status as OrderStatus,
    reason: row.reason,
    error: row.error ?? undefined,
    correlationId: row.correlation_id ?? undefined,
    createdAt: row.created_at,
  }));
}
