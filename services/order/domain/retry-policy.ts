import type { Random } from './types.js';

/**
 * Exponential backoff with "equal jitter": the n-th retry (n ≥ 1) waits
 * between half and all of min(max, base · 2^(n−1)). The jitter spreads
 * retries of orders that failed together (a restock, an outage) so they do
 * not return as one thundering herd.
 */
export function backoffMs(attempt: number, policy: { baseMs: number; maxMs: number }, random: Random): number {
  const exponent = Math.min(Math.max(attempt, 1) - 1, 30);
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
