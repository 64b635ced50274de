import { delay } from './free-port.js';

export interface EventuallyOptions {
  /** Give up after this long. Default 10 s. */
  timeoutMs?: number;
  /** Pause between checks. Default 50 ms. */
  intervalMs?: number;
}

/**
 * Polls `check` until it returns true, instead of sleeping and hoping. `check` returns a
 * description of what it saw when the condition does not hold yet; on timeout the test
 * fails with what it waited for and that last description.
 */
export async function eventually(
  what: string,
  check: () => true | string | Promise<true | string>,
  { timeoutMs = 10_000, intervalMs = 50 }: EventuallyOptions = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const seen = await check();
    if (seen === true) return;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${seen}`);
    await delay(intervalMs);
  }
}
