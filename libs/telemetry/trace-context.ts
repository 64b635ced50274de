import { context, propagation, SpanStatusCode, trace, type Span } from '@opentelemetry/api';

/** A trace context as the configured propagators write it: W3C `traceparent` (and `tracestate`) by default. */
export type TraceCarrier = Record<string, string>;

/**
 * The trace context of the code running now, to store and continue later in
 * another async context (an outbox row, published by the relay). Undefined
 * outside a trace, and always when tracing is off (the API's no-op propagator
 * writes nothing).
 */
export function currentTraceContext(): TraceCarrier | undefined {
  const carrier: TraceCarrier = {};
  propagation.inject(context.active(), carrier);
  for (const _ in carrier) return carrier;
  return undefined;
}

/** Ends a span, marked failed with `error` when there was one. */
export function endSpan(span: Span, error?: unknown): void {
  if (error !== undefined) {
    if (error instanceof Error) span.recordException(error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  }
  span.end();
}

/** Runs `work` in a new internal span (a root one when nothing is active), ended when it settles. */
export async function inSpan<T>(name: string, attributes: Record<string, string>, work: () => Promise<T>): Promise<T> {
  return trace.getTracer('larder').startActiveSpan(name, { attributes }, async (span) => {
    try {
      const result = await work();
      endSpan(span);
      return result;
    } catch (error) {
      endSpan(span, error);
      throw error;
    }
  });
}
