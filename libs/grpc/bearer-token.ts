import {
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  errors,
  jwtVerify,
  type FetchImplementation,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
} from 'jose';
import { AppError } from '#libs/errors/app-error.js';
import { TOKEN_ALGORITHMS } from './jwks.js';

/** Where the keys that sign end-user tokens come from (JWT_JWKS_FILE or JWT_JWKS_URL). */
export type TokenKeySource = { kind: 'file'; path: string; jwks: JSONWebKeySet } | { kind: 'url'; url: URL };

export interface TokenSettings {
  keys: TokenKeySource;
  /** The `iss` every token must carry (JWT_ISSUER). */
  issuer: string;
  /** An `aud` every token must carry (JWT_AUDIENCE). */
  audience: string;
}

/** What a valid token says: whose it is and the scopes of its space-separated `scope` claim. */
export interface VerifiedToken {
  subject: string;
  scopes: ReadonlySet<string>;
}

/** Checks a compact JWT; throws an UNAUTHENTICATED AppError with a TOKEN_* reason (UNAVAILABLE only when remote keys cannot be fetched). */
export type TokenVerifier = (token: string) => Promise<VerifiedToken>;

/** Seconds of clock skew between the issuer and us that `exp` and `nbf` forgive. */
const CLOCK_TOLERANCE_S = 30;

/**
 * A bearer value meant as a JWT rather than an API key: the shape of a compact
 * JWS (three base64url parts, the last one empty in an `alg: none` token), or
 * beginning as every JWT header does (`eyJ`, base64url of `{"`), so a
 * truncated token is called malformed rather than an unknown API key.
 */
export const looksLikeJwt = (value: string): boolean =>
  value.startsWith('eyJ') || /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/.test(value);

const refused = (reason: string, message: string, metadata?: Record<string, string>, cause?: unknown) =>
  new AppError('unauthenticated', `token refused: ${message}`, { reason, metadata, cause });

const invalidClaim = (claim: string) => refused('TOKEN_MALFORMED', `the "${claim}" claim is invalid`, { claim });

/** Fetching the remote key set failed (no answer, not 200, not JSON): the token may be fine, so retry later. */
class KeysNotFetched extends Error {
  constructor(message: string, cause?: unknown) {
    super(`the token signing keys could not be fetched: ${message}`, { cause });
    this.name = 'KeysNotFetched';
  }
}

/**
 * jose's fetch of a remote key set, with every failure of the fetch itself
 * marked as such: a network failure is a TypeError, like a key that cannot
 * verify, and only the first is worth retrying.
 */
const fetchKeys: FetchImplementation = async (url, init) => {
  let body: string;
  try {
    const response = await fetch(url, init);
    if (response.status !== 200) throw new KeysNotFetched(`HTTP ${response.status}`);
    body = await response.text();
    JSON.parse(body);
  } catch (error) {
    throw error instanceof KeysNotFetched ? error : new KeysNotFetched((error as Error).message, error);
  }
  return new Response(body, { status: 200, headers: { 'content-type': 'application/json' } });
};

/**
 * The one place where jose's errors become the caller's answer, each with its
 * own reason. Messages never echo the token.
 */
export function tokenFailure(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof errors.JWTExpired) return refused('TOKEN_EXPIRED', 'it has expired ("exp")');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return refused('TOKEN_NOT_YET_VALID', 'it is not valid yet ("nbf")');
    if (error.claim === 'iss') return refused('TOKEN_ISSUER_INVALID', 'unexpected issuer ("iss")');
    if (error.claim === 'aud') return refused('TOKEN_AUDIENCE_INVALID', 'unexpected audience ("aud")');
    if (error.reason === 'missing') return refused('TOKEN_CLAIM_MISSING', `it lacks the "${error.claim}" claim`, { claim: error.claim });
    return invalidClaim(error.claim);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return refused('TOKEN_SIGNATURE_INVALID', 'bad signature');
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
    return refused('TOKEN_KEY_UNKNOWN', 'no single key of the key set matches its "kid" and "alg"');
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
    return refused('TOKEN_ALGORITHM_REFUSED', `its "alg" is not one of ${TOKEN_ALGORITHMS.join(', ')}`);
  }
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) return refused('TOKEN_MALFORMED', 'not a well-formed JWT');
  if (error instanceof KeysNotFetched || error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) {
    // The remote key set could not be fetched or read (a local file is checked at start): retry later.
    return new AppError('unavailable', 'the token signing keys cannot be fetched, retry later', {
      reason: 'TOKEN_KEYS_UNAVAILABLE',
      cause: error,
    });
  }
  if (error instanceof TypeError) {
    // jose's word for a key it will not use: the key set's key for this "kid" cannot verify (an RSA key under 2048 bits).
    return refused('TOKEN_KEY_UNUSABLE', 'the key set\'s key for its "kid" cannot verify it', undefined, error);
  }
  return refused('TOKEN_MALFORMED', 'not a well-formed JWT');
}

function keySet(source: TokenKeySource): JWTVerifyGetKey {
  return source.kind === 'file' ? createLocalJWKSet(source.jwks) : createRemoteJWKSet(source.url, { [customFetch]: fetchKeys });
}

/**
 * A verifier of end-user tokens: signature by a key of the configured set with
 * an allowed algorithm, the configured issuer and audience, `exp` and `sub`
 * present, `exp`/`nbf` within CLOCK_TOLERANCE_S.
 */
export function createTokenVerifier(settings: TokenSettings): TokenVerifier {
  const keys = keySet(settings.keys);
  const options = {
    issuer: settings.issuer,
    audience: settings.audience,
    algorithms: [...TOKEN_ALGORITHMS],
    requiredClaims: ['exp', 'sub'],
    clockTolerance: CLOCK_TOLERANCE_S,
  };
  return async (token) => {
    try {
      const { payload } = await jwtVerify(token, keys, options);
      // jose checks that "sub" is there, not that it is a string (an array holding a UUID would pass for one).
      if (typeof payload.sub !== 'string') throw invalidClaim('sub');
      const scope = typeof payload.scope === 'string' ? payload.scope : '';
      return { subject: payload.sub, scopes: new Set(scope.split(' ').filter(Boolean)) };
    } catch (error) {
      throw tokenFailure(error);
    }
  };
}
