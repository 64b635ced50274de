import { createHash } from 'node:crypto';
import { invalid } from '#libs/errors/app-error.js';

/**
 * Opaque keyset page tokens: base64url JSON of the last key seen plus a
 * fingerprint of the query, so a token reused with other filters is refused
 * (AIP-158) instead of silently paging through a different list.
 */
interface TokenBody {
  k: string;
  q: string;
}

const fingerprint = (query: unknown): string => createHash('sha256').update(JSON.stringify(query)).digest('base64url').slice(0, 16);

export function encodePageToken(lastKey: string, query: unknown): string {
  return Buffer.from(JSON.stringify({ k: lastKey, q: fingerprint(query) } satisfies TokenBody)).toString('base64url');
}

/** The key to continue after, or undefined for the first page. */
export function decodePageToken(field: string, token: string | undefined, query: unknown): string | undefined {
  if (!token) return undefined;
  let body: Partial<TokenBody>;
  try {
    if (token.length > 1024 || !/^[A-Za-z0-9_-]+$/.test(token)) throw new Error('shape');
    body = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalid(field, 'is not a token this server issued');
  }
  if (typeof body?.k !== 'string' || typeof body.q !== 'string') throw invalid(field, 'is not a token this server issued');
  if (body.q !== fingerprint(query)) throw invalid(field, 'belongs to a request with different filters');
  return body.k;
}
