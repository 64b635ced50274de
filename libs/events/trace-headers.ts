import {
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  trace,
  type Context,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';
import type { MsgHdrs } from 'nats';
import type { TraceCarrier } from '#libs/telemetry/trace-context.js';

/**
 * NATS has no OpenTelemetry instrumentation: the trace crosses the broker in
 * message headers (W3C `traceparent` / `tracestate`), written and read through
 * the propagation API as the correlation id travels in X-Correlation-Id
 * (headers.ts). The relay publishes long after the request that wrote the
 * outbox row, in another async context, so the row stores the request's trace
 * context (outbox.trace_context) and the producer span continues it.
 */

const tracer = () => trace.getTracer('larder.events');

const headerSetter: TextMapSetter<MsgHdrs> = { set: (h, key, value) => h.set(key, value) };

const headerGetter: TextMapGetter<MsgHdrs | undefined> = {
  keys: (h) => h?.keys() ?? [],
  // nats.js answers '' for a header that is not there.
  get: (h, key) => h?.get(key) || undefined,
};

/**
 * The relay's PRODUCER span for one outbox row: a child of the trace context
 * stored with the row (a root span without one), written into `h` so the
 * consumer's span becomes its child. The caller ends it when the PubAck is in.
 */
export function startPublishSpan(row: { id: string; subject: string; trace_context: TraceCarrier | null }, h: MsgHdrs): Span {
  const parent = row.trace_context ? propagation.extract(ROOT_CONTEXT, row.trace_context) : ROOT_CONTEXT;
  const span = tracer().startSpan(
    `send ${row.subject}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': 'nats',
        'messaging.operation.type': 'send',
        'messaging.destination.name': row.subject,
        'messaging.message.id': row.id,
      },
    },
    parent,
  );
  propagation.inject(trace.setSpan(parent, span), h, headerSetter);
  return span;
}

/** Runs `work` in the CONSUMER span of one message, a child of the producer span named by its headers. */
export function inProcessSpan<T>(
  message: { subject: string; headers?: MsgHdrs },
  attributes: { eventId: string; consumer: string },
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const parent: Context = propagation.extract(ROOT_CONTEXT, message.headers, headerGetter);
  return tracer().startActiveSpan(
    `process ${message.subject}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': 'nats',
        'messaging.operation.type': 'process',
        'messaging.destination.name': message.subject,
        'messaging.message.id': attributes.eventId,
        'messaging.consumer.group.name': attributes.consumer,
      },
    },
    parent,
    work,
  );
}
