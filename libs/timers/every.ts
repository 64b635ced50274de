import type { Logger } from '#libs/logging/logger.js';

export interface Repeating {
  /** Runs the task now (waiting for a run in progress first). */
  runNow(): Promise<void>;
  /** No further runs; resolves when the current run finished. */
  stop(): Promise<void>;
}

/**
 * Runs `task` every `intervalMs`, never two runs at once (the next waits for
 * the previous), logging rather than throwing failures: background work must
 * survive a database blip.
 */
export function every(intervalMs: number, task: () => Promise<void>, logger: Logger): Repeating {
  let current: Promise<void> = Promise.resolve();
  let stopped = false;
  const run = (): Promise<void> => {
    current = current.then(async () => {
      if (stopped) return;
      try {
        await task();
      } catch (error) {
        logger.warn({ err: error }, 'background task failed');
      }
    });
    return current;
  };
  const timer = setInterval(() => void run(), intervalMs);
  timer.unref();
  return {
    runNow: run,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await current;
    },
  };
}
