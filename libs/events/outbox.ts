import type { Knex } from 'knex';

/** One event to publish: protobuf payload plus routing. */
export interface OutboxEvent {
  /** UUID; becomes Nats-Msg-Id so JetStream drops duplicates. */
  id: string;
  /** NATS subject, e.g. inventory.reservation.reserved. */
  subject: string;
  /** Full protobuf message name, e.g. larder.inventory.v1.ReservationReserved. */
  type: string;
  payload: Uint8Array;
  correlationId?: string;
}

/**
 * Appends events inside the caller's transaction: they become visible to the
 * relay only if the change they describe commits.
 */
/** The outbox row of an event, as stored (for writers that insert it in their own statement). */
export function outboxRow(event: OutboxEvent) {
  return {
    id: event.id,
    subject: event.subject,
    event_type: event.type,
    payload: Buffer.from(event.payload),
    correlation_id: event.correlationId ?? null,
  };
}

export async function appendToOutbox(trx: Knex.Transaction, events: readonly OutboxEvent[]): Promise<void> {
  if (events.length === 0) return;
  await trx('outbox').insert(events.map(outboxRow));
}
