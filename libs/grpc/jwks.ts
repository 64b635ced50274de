import { createHash, createPublicKey } from 'node:crypto';
import type { JSONWebKeySet, JWK } from 'jose';

/**
 * The only signature algorithms an end-user token may use: asymmetric ones.
 * No `none`, and no HMAC: with HS* a verifier handed a public key would accept
 * tokens "signed" with that public key as the secret.
 */
export const TOKEN_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const;

/** The key types those algorithms use; `oct` (a shared secret) is never one. */
const KEY_TYPES = new Set(['RSA', 'EC', 'OKP']);

/** Members that only a private (or symmetric) JWK has: a verifier's key set must hold none of them. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'] as const;

/**
 * Checks a parsed JWKS document before any token is verified with it: every
 * entry a public RSA, EC or OKP key that node can import, with an `alg` (if it
 * names one) from TOKEN_ALGORITHMS, and no private key material. Throws an
 * Error naming the entry (by position and kid) and what is wrong with it.
 */
export function checkJwks(document: unknown): JSONWebKeySet {
  const keys = (document as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new Error('must be a JWKS: a JSON object with a non-empty "keys" array');
  keys.forEach((entry: unknown, index) => {
    const jwk = (entry ?? {}) as JWK;
    const name = `key ${index + 1}${typeof jwk.kid === 'string' ? ` (kid ${jwk.kid})` : ''}`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new Error(`${name} is not a JSON object`);
    if (!KEY_TYPES.has(jwk.kty ?? '')) throw new Error(`${name} has kty "${String(jwk.kty)}"; only RSA, EC and OKP keys are accepted`);
    if (jwk.alg !== undefined && !(TOKEN_ALGORITHMS as readonly string[]).includes(jwk.alg)) {
      throw new Error(`${name} has alg "${String(jwk.alg)}"; accepted: ${TOKEN_ALGORITHMS.join(', ')}`);
    }
    if (PRIVATE_MEMBERS.some((member) => member in jwk)) throw new Error(`${name} holds private key material; publish only public keys`);
    try {
      createPublicKey({ key: jwk as never, format: 'jwk' });
    } catch (error) {
      throw new Error(`${name} is not a usable public key (${(error as Error).message})`, { cause: error });
    }
  });
  return { keys: keys as JWK[] };
}

/** The RFC 7638 SHA-256 thumbprint (base64url) of a public RSA, EC or OKP JWK: what identifies a key whatever its kid. */
export function jwkThumbprint(jwk: JWK): string {
  const members: Record<string, readonly string[]> = { RSA: ['e', 'kty', 'n'], EC: ['crv', 'kty', 'x', 'y'], OKP: ['crv', 'kty', 'x'] };
  const required = members[jwk.kty ?? ''];
  if (!required) throw new Error(`no thumbprint for kty "${String(jwk.kty)}"`);
  const canonical = `{${required.map((name) => `"${name}":${JSON.stringify((jwk as Record<string, unknown>)[name])}`).join(',')}}`;
  return createHash('sha256').update(canonical).digest('base64url');
}
