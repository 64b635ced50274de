import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { importJWK, SignJWT, type JWK } from 'jose';
import { CUSTOMER_SCOPES } from '../../services/order/operator.js';

/**
 * The development key set (deploy/dev-jwks, generated once with jose and
 * committed): npm start points the order service at its public half and signs
 * demo tokens with the private one. Its private key is public, so the order
 * service refuses this key set when NODE_ENV=production.
 */
export const DEV_JWKS_FILE = fileURLToPath(new URL('../../deploy/dev-jwks/jwks.json', import.meta.url));
const DEV_PRIVATE_JWK_FILE = fileURLToPath(new URL('../../deploy/dev-jwks/private-jwk.json', import.meta.url));
export const DEV_ISSUER = 'https://dev-issuer.larder.invalid/';
export const DEV_AUDIENCE = 'larder-order';

/** What the order service needs to accept development tokens. */
export const DEV_TOKEN_ENV = { JWT_JWKS_FILE: DEV_JWKS_FILE, JWT_ISSUER: DEV_ISSUER, JWT_AUDIENCE: DEV_AUDIENCE } as const;

/**
 * Whether npm start turns development tokens on: outside production, when the
 * environment configures no token settings of its own.
 */
export function usesDevTokens(env: Readonly<Record<string, string | undefined>>): boolean {
  const set = (name: string) => Boolean(env[name]?.trim());
  return env.NODE_ENV?.trim() !== 'production' && !['JWT_JWKS_FILE', 'JWT_JWKS_URL', 'JWT_ISSUER', 'JWT_AUDIENCE'].some(set);
}

export interface DevTokenOptions {
  /** Granted scopes (default: every customer scope). */
  scopes?: readonly string[];
  /** Lifetime in seconds (default 12 hours). */
  ttlSeconds?: number;
}

/** A token for `customerId` signed with the development key, as an identity provider would issue it. */
export async function mintDevToken(customerId: string, { scopes = CUSTOMER_SCOPES, ttlSeconds = 12 * 3600 }: DevTokenOptions = {}) {
  const jwk = JSON.parse(readFileSync(DEV_PRIVATE_JWK_FILE, 'utf8')) as JWK;
  const key = await importJWK(jwk, jwk.alg);
  return new SignJWT({ scope: scopes.join(' ') })
    .setProtectedHeader({ alg: jwk.alg!, kid: jwk.kid!, typ: 'JWT' })
    .setIssuer(DEV_ISSUER)
    .setAudience(DEV_AUDIENCE)
    .setSubject(customerId)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(key);
}
