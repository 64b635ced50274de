import { timingSafeEqual } from 'node:crypto';
import { AppError } from '#libs/errors/app-error.js';
import { looksLikeJwt } from './bearer-token.js';

/** One API key: who it is (for logs) and what it may do. */
export interface ApiKey {
  name: string;
  key: string;
  /** Scope names; '*' grants every scope. */
  scopes: ReadonlySet<string>;
}

/**
 * Parses API_KEYS: entries separated by ';', each `name=key:scope,scope`
 * (`*` for all scopes), e.g. `admin=s3cret:*;shop=abc:catalog.read,reservations`.
 * Throws a message naming the bad entry (never the key itself).
 */
export function parseApiKeys(text: string, knownScopes: readonly string[]): ApiKey[] {
  const keys: ApiKey[] = [];
  const entries = text
    .split(';')
    .map((e) => e.trim())
    .filter(Boolean);
  entries.forEach((entry, index) => {
    const match = /^([A-Za-z0-9_.-]+)=([^:\s]{16,}):([A-Za-z0-9_.*,-]+)$/.exec(entry);
    if (!match) {
      throw new Error(`entry ${index + 1} must be name=key:scope[,scope] with a key of at least 16 characters without ':' or spaces`);
    }
    const [, name, key, scopeList] = match as unknown as [string, string, string, string];
    const scopes = new Set(scopeList.split(',').filter(Boolean));
    for (const scope of scopes) {
      if (scope !== '*' && !knownScopes.includes(scope)) {
        // The value is not echoed: in a swapped key:scopes pair it would be the secret.
        throw new Error(`entry ${index + 1} (${name}) has an unknown scope; known: ${knownScopes.join(', ')}, *`);
      }
    }
    if (keys.some((k) => k.key === key)) throw new Error(`entry ${index + 1} (${name}) repeats another entry's key`);
    keys.push({ name, key, scopes });
  });
  if (keys.length === 0) throw new Error('no keys given');
  return keys;
}

const sameSecret = (a: string, b: string): boolean => {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
};

const HOW = 'send metadata "authorization: Bearer <key>"';

/**
 * The key of an `authorization: Bearer <key>` header. A header without the
 * scheme (a bare key, or another scheme such as Basic) gets its own reason, so a
 * caller who forgot "Bearer " is told so instead of "missing API key". Messages
 * never echo the header: in a malformed one, any word may be the secret.
 */
function bearerKey(authorization: string | undefined): string {
  const header = authorization?.trim() ?? '';
  if (header === '' || /^Bearer$/i.test(header)) {
    throw new AppError('unauthenticated', `missing API key: ${HOW}`, { reason: 'API_KEY_MISSING' });
  }
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (match) return match[1]!;
  if (/^Bearer\s/i.test(header)) {
    throw new AppError('unauthenticated', `expected one API key after "Bearer ": ${HOW}`, { reason: 'API_KEY_MISSING' });
  }
  throw new AppError('unauthenticated', `the authorization metadata does not start with the "Bearer " scheme: ${HOW}`, {
    reason: 'API_KEY_SCHEME_MISSING',
  });
}

/** Who made a call: an API key, or the subject of an end-user token. */
export interface Caller {
  /** For logs: the key's name, or `token:<subject>`. */
  name: string;
  scopes: ReadonlySet<string>;
  /** The verified `sub` of an end-user token; absent for API keys. */
  subject?: string;
}

/** Turns a token into the caller it stands for (the service's rules on top of libs/grpc/bearer-token.ts). */
export type TokenAuthenticator = (token: string) => Promise<{ subject: string; scopes: ReadonlySet<string> }>;

function requireScope(caller: Caller, scope: string, who: string): void {
  if (!caller.scopes.has('*') && !caller.scopes.has(scope)) {
    throw new AppError('permissionDenied', `${who} lacks scope ${scope}`, { reason: 'SCOPE_MISSING', metadata: { scope } });
  }
}

const findKey = (keys: readonly ApiKey[], key: string): ApiKey | undefined => keys.find((k) => sameSecret(k.key, key));

/** Finds the caller of an `authorization: Bearer <key>` header and checks it holds `scope`. */
export function authorize(keys: readonly ApiKey[], authorization: string | undefined, scope: string): ApiKey {
  const caller = findKey(keys, bearerKey(authorization));
  if (!caller) throw new AppError('unauthenticated', 'unknown API key', { reason: 'API_KEY_INVALID' });
  requireScope(caller, scope, `API key "${caller.name}"`);
  return caller;
}

/**
 * Like authorize, and when `tokens` is given, a bearer value that is no API key
 * but has the shape of a JWT is verified as an end-user token (API keys are
 * looked up first, so a key that happens to contain dots keeps working).
 */
export async function authorizeCall(
  keys: readonly ApiKey[],
  tokens: TokenAuthenticator | undefined,
  authorization: string | undefined,
  scope: string,
): Promise<Caller> {
  const value = bearerKey(authorization);
  if (!tokens || findKey(keys, value) || !looksLikeJwt(value)) return authorize(keys, authorization, scope);
  const { subject, scopes } = await tokens(value);
  const caller = { name: `token:${subject}`, scopes, subject };
  requireScope(caller, scope, 'the token');
  return caller;
}
