import { pino, type Logger } from 'pino';

/** A debug-level logger whose JSON lines a test reads back, to assert what was logged (level, message, fields). */
export function capturingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}
