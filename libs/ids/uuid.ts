import { randomUUID } from 'node:crypto';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a canonical 8-4-4-4-12 hex UUID of any version. */
export function isUuid(value: string): boolean {
  return UUID_PATTERN.test(value);
}

/**
 * A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then random bits.
 * Ids sort by creation time, so a keyset page over `id` is creation order and
 * new rows land in the index's right-hand page instead of anywhere.
 */
export function uuidv7(now: number = Date.now()): string {
  // The random bits come from a v4 UUID: Node draws those from a pool it refills in
  // bulk, where randomBytes(16) asked the generator for every id (2 % of a
  // service's CPU under load). A v4 is random but for its version nibble (index 14);
  // its variant (index 19) is the one v7 has too: 74 random bits, as v7 keeps.
  const time = now.toString(16).padStart(12, '0');
  const random = randomUUID();
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${random.slice(15, 18)}-${random.slice(19)}`;
}
