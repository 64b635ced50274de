import { readFileSync } from 'node:fs';
import type { TokenSettings } from '#libs/grpc/bearer-token.js';
import { checkJwks, jwkThumbprint } from '#libs/grpc/jwks.js';
import { ConfigError, type EnvReader } from './env.js';

export interface TokenConfigOptions {
  production: boolean;
  /** Thumbprints (RFC 7638) of the development keys the repository publishes: refused in production. */
  developmentThumbprints: readonly string[];
}

function readJwksFile(path: string) {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError('JWT_JWKS_FILE', `cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    return checkJwks(JSON.parse(text));
  } catch (error) {
    throw new ConfigError('JWT_JWKS_FILE', `${path}: ${(error as Error).message}`);
  }
}

/**
 * End-user tokens: enabled when a key set is configured, JWT_JWKS_FILE (a JWKS
 * read and checked now) or JWT_JWKS_URL (fetched by jose when a token needs
 * it), never both; then JWT_ISSUER and JWT_AUDIENCE are required. In
 * production a key set holding a development key is refused: its private half
 * is in the repository. Undefined when tokens are off.
 */
export function readTokenConfig(env: EnvReader, options: TokenConfigOptions): TokenSettings | undefined {
  const file = env.raw('JWT_JWKS_FILE');
  const url = env.raw('JWT_JWKS_URL');
  if (file && url) throw new ConfigError('JWT_JWKS_URL', 'cannot be set together with JWT_JWKS_FILE; configure one key set');
  if (!file && !url) {
    for (const name of ['JWT_ISSUER', 'JWT_AUDIENCE']) {
      if (env.raw(name)) throw new ConfigError(name, 'has no effect without JWT_JWKS_FILE or JWT_JWKS_URL');
    }
    return undefined;
  }
  let keys: TokenSettings['keys'];
  if (file) {
    const jwks = readJwksFile(file);
    if (options.production && jwks.keys.some((key) => options.developmentThumbprints.includes(jwkThumbprint(key)))) {
      throw new ConfigError(
        'JWT_JWKS_FILE',
        `${file} holds the development key (deploy/dev-jwks), whose private key is public; refused when NODE_ENV=production`,
      );
    }
    keys = { kind: 'file', path: file, jwks };
  } else {
    const parsed = new URL(env.url('JWT_JWKS_URL', ['https:', 'http:']));
    if (options.production && parsed.protocol !== 'https:')
      throw new ConfigError('JWT_JWKS_URL', 'must use https: when NODE_ENV=production');
    keys = { kind: 'url', url: parsed };
  }
  const issuer = env.raw('JWT_ISSUER');
  if (!issuer) throw new ConfigError('JWT_ISSUER', 'is required when JWT_JWKS_FILE or JWT_JWKS_URL is set');
  const audience = env.raw('JWT_AUDIENCE');
  if (!audience) throw new ConfigError('JWT_AUDIENCE', 'is required when JWT_JWKS_FILE or JWT_JWKS_URL is set');
  return { keys, issuer, audience };
}
