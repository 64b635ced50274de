/**
 * The errors an RPC can return, as the API reference (docs/api.md) lists them.
 * Each RPC's declaration (rpc-table.ts) lists its own errors; the errors
 * every RPC shares (bad input, auth, database trouble) are listed once here.
 * A structure test holds each table to the reasons the service's code raises.
 */
export interface RpcError {
  /** gRPC status name, e.g. FAILED_PRECONDITION. */
  code: string;
  /** google.rpc.ErrorInfo reason. */
  reason: string;
  /** When the caller gets it. */
  when: string;
}

export type RpcErrors<D> = { [K in keyof D]: readonly RpcError[] };

export const rpcError = (code: string, reason: string, when: string): RpcError => ({ code, reason, when });

/** Returned by any RPC of either service. */
export const COMMON_RPC_ERRORS: readonly RpcError[] = [
  rpcError('INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'a field is missing or malformed; BadRequest names the field'),
  rpcError('INVALID_ARGUMENT', 'MALFORMED_REQUEST', 'the request bytes are not a valid protobuf message'),
  rpcError('INVALID_ARGUMENT', 'UNSTORABLE_VALUE', 'a value the database cannot store (e.g. a NUL byte in text)'),
  rpcError('UNAUTHENTICATED', 'API_KEY_MISSING', 'no API key in the authorization metadata'),
  rpcError('UNAUTHENTICATED', 'API_KEY_SCHEME_MISSING', 'the authorization metadata does not start with "Bearer "'),
  rpcError('UNAUTHENTICATED', 'API_KEY_INVALID', 'the API key is not known'),
  rpcError('PERMISSION_DENIED', 'SCOPE_MISSING', 'the key lacks the scope the RPC needs'),
  rpcError('ABORTED', 'CONCURRENT_MODIFICATION', 'a concurrent write won; retry the request'),
  rpcError('ABORTED', 'LOCK_TIMEOUT', 'a row stayed locked too long; retry the request'),
  rpcError('DEADLINE_EXCEEDED', 'DEADLINE_EXCEEDED', 'the database query took too long'),
  rpcError('UNAVAILABLE', 'DATABASE_UNAVAILABLE', 'the database cannot be reached; retry later'),
];

/** Returned by any RPC of a service that accepts end-user tokens (libs/grpc/bearer-token.ts), for a token it refuses. */
export const TOKEN_RPC_ERRORS: readonly RpcError[] = [
  rpcError('UNAUTHENTICATED', 'TOKEN_EXPIRED', 'the token has expired ("exp")'),
  rpcError('UNAUTHENTICATED', 'TOKEN_NOT_YET_VALID', 'the token is not valid yet ("nbf")'),
  rpcError('UNAUTHENTICATED', 'TOKEN_ISSUER_INVALID', '"iss" is not JWT_ISSUER'),
  rpcError('UNAUTHENTICATED', 'TOKEN_AUDIENCE_INVALID', '"aud" does not name JWT_AUDIENCE'),
  rpcError('UNAUTHENTICATED', 'TOKEN_SIGNATURE_INVALID', 'the signature does not verify'),
  rpcError('UNAUTHENTICATED', 'TOKEN_KEY_UNKNOWN', 'no key of the key set matches its "kid" and "alg"'),
  rpcError('UNAUTHENTICATED', 'TOKEN_KEY_UNUSABLE', 'the key set\'s key for its "kid" cannot verify it (e.g. an RSA key under 2048 bits)'),
  rpcError('UNAUTHENTICATED', 'TOKEN_ALGORITHM_REFUSED', '"alg" is not RS256, ES256 or EdDSA (never none, never HMAC)'),
  rpcError('UNAUTHENTICATED', 'TOKEN_CLAIM_MISSING', 'a required claim ("exp", "sub") is missing'),
  rpcError('UNAUTHENTICATED', 'TOKEN_MALFORMED', 'not a well-formed JWT, or a claim of the wrong type'),
  rpcError('UNAVAILABLE', 'TOKEN_KEYS_UNAVAILABLE', 'the remote key set (JWT_JWKS_URL) cannot be fetched; retry later'),
];
