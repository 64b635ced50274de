import { createHash } from 'node:crypto';

/**
 * Fingerprint of the parts of a request that define its effect, so a repeated
 * idempotency key can be told apart from a reused one.
 */
export function requestHash(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}
