import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON logger for one service; level from LOG_LEVEL (validated by the service's config). */
export function createLogger(service: string, level = 'info'): Logger {
  return pino(
    {
      level,
      base: { service },
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
