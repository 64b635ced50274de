import type { Knex } from 'knex';
import { currentTraceContext, type TraceCarrier } from '#libs/telemetry/trace-context.js';

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
  /** The trace of the request that caused it (traceparent, tracestate): the relay's publish span continues it. */
  traceContext?: TraceCarrier;
}

/**
 * An event, with the trace context of the code building it: encoders call this
 * where the request runs (a batch that writes many requests' events later, in
 * one statement, still gives each event its own request's trace).
 */
export function outboxEvent(event: Omit<OutboxEvent, 'traceContext'>): OutboxEvent {
  const traceContext = currentTraceContext();
  return traceContext ? { ...event, traceContext } : event;
}

/** The outbox row of an event, as stored (for writers that insert it in their own statement). */
export function outboxRow(event: OutboxEvent) {
  return {
    id: event.id,
    subject: event.subject,
    event_type: event.type,
    payload: Buffer.from(event.payload),
    correlation_id: event.correlationId ?? null,
    /** JSON text for a jsonb column (a bound JS object would not be cast in raw statements). */
    trace_context: event.traceContext ? JSON.stringify(event.traceContext) : null,
  };
}

/**
 * Appends events inside the caller's transaction: they become visible to the
 * relay only if the change they describe commits.
 */
export async function appendToOutbox(trx: Knex.Transaction, events: readonly OutboxEvent[]): Promise<void> {
  if (events.length === 0) return;
  await trx('outbox').insert(events.map(outboxRow));
}
