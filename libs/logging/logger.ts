import { trace } from '@opentelemetry/api';
import { pino, type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  /** Adds trace_id and span_id of the active span to every line logged inside a trace (set when tracing is on). */
  traceIds?: boolean;
}

/** The active span's ids, for a log line to be found from its trace (and back); nothing outside a trace. */
function traceIds(): Record<string, string> {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

/** JSON logger for one service; level from LOG_LEVEL (validated by the service's config). */
export function createLogger(service: string, level = 'info', options: LoggerOptions = {}): Logger {
  return pino(
    {
      level,
      base: { service },
      // Only when tracing is on: off, no line pays for the look-up.
      ...(options.traceIds ? { mixin: traceIds } : {}),
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    // Not one write(2) per line: with one log line per RPC, synchronous writes were
    // about a tenth of a busy service's CPU. Lines written while a write is in flight
    // go out together with the next one; pino flushes what is left when the process exits.
    pino.destination({ dest: 1, sync: false }),
  );
}

/** A logger that drops everything, for tests that do not read logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
