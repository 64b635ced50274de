import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseApiKeys, type ApiKey } from '#libs/grpc/auth.js';
import type { TlsOptions } from '#libs/grpc/server.js';
import { parseCrashSetting, type CrashSetting } from '#libs/process/crash-points.js';
import { ConfigError, type EnvReader } from './env.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Settings every Larder service reads the same way. */
export interface CommonConfig {
  production: boolean;
  databaseUrl: string;
  /** Hot statements as named prepared statements (DATABASE_PREPARED_STATEMENTS); false behind PgBouncer < 1.21 in transaction mode. */
  dbPreparedStatements: boolean;
  /** NATS_URL: one server, or every server of a cluster (comma-separated); the client fails over between them. */
  natsServers: string[];
  /** NATS_STREAM_REPLICAS: copies of each stream (and its durable consumers) a cluster keeps; 1 on a single server. */
  natsStreamReplicas: number;
  grpcHost: string;
  grpcPort: number;
  logLevel: (typeof LOG_LEVELS)[number];
  apiKeys: ApiKey[];
  tls?: TlsOptions;
  shutdownGraceMs: number;
  /**
   * OUTBOX_DRAIN_MS: on a graceful stop, after the calls and workers finished,
   * how long the outbox relay may take to publish what is committed before the
   * process exits (libs/events/relay.ts, drainMs). 0 leaves it to the next start.
   */
  outboxDrainMs: number;
  dbPoolMax: number;
  /** Prometheus /metrics port; 0 picks a free one (tests). */
  metricsPort: number;
  /** LARDER_CRASH_AT: the crash point (and hit) where this process kills itself; test-only, refused in production. */
  crashAt?: CrashSetting;
}

export interface CommonDefaults {
  database: string;
  grpcPort: number;
  metricsPort: number;
  /** Used only outside production: documented development keys. */
  developmentApiKeys: string;
  scopes: readonly string[];
}

function readFile(variable: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ConfigError(variable, `cannot read ${path}: ${(error as Error).message}`);
  }
}

function readTls(env: EnvReader): TlsOptions | undefined {
  const cert = env.raw('TLS_CERT_FILE');
  const key = env.raw('TLS_KEY_FILE');
  const ca = env.raw('TLS_CA_FILE');
  if (!cert && !key && !ca) return undefined;
  if (!cert) throw new ConfigError('TLS_CERT_FILE', 'is required when TLS_KEY_FILE or TLS_CA_FILE is set');
  if (!key) throw new ConfigError('TLS_KEY_FILE', 'is required when TLS_CERT_FILE is set');
  const tls = {
    cert: readFile('TLS_CERT_FILE', cert),
    key: readFile('TLS_KEY_FILE', key),
    ca: ca ? readFile('TLS_CA_FILE', ca) : undefined,
  };
  // Parse them now: a bad file must stop the start with the variable's name, not
  // as a raw OpenSSL error later, nor (for the CA) as a server refusing everyone.
  const certificate = parsePem('TLS_CERT_FILE', () => new X509Certificate(tls.cert));
  const privateKey = parsePem('TLS_KEY_FILE', () => createPrivateKey(tls.key));
  if (!certificate.checkPrivateKey(privateKey))
    throw new ConfigError('TLS_KEY_FILE', 'is not the private key of the certificate in TLS_CERT_FILE');
  if (tls.ca) parsePem('TLS_CA_FILE', () => new X509Certificate(tls.ca!));
  return tls;
}

/** LARDER_CRASH_AT exists for the crash-point tests; a production process must never carry it. */
function readCrashAt(env: EnvReader, production: boolean): CrashSetting | undefined {
  const text = env.raw('LARDER_CRASH_AT');
  if (text === undefined) return undefined;
  if (production) throw new ConfigError('LARDER_CRASH_AT', 'is a test-only setting and is refused when NODE_ENV=production');
  try {
    return parseCrashSetting(text);
  } catch (error) {
    throw new ConfigError('LARDER_CRASH_AT', (error as Error).message);
  }
}

function parsePem<T>(variable: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new ConfigError(variable, `is not a usable PEM file (${(error as Error).message})`);
  }
}

export function readCommonConfig(env: EnvReader, defaults: CommonDefaults): CommonConfig {
  const production = env.oneOf('NODE_ENV', ['development', 'production', 'test'], 'development') === 'production';
  const keysText = env.raw('API_KEYS');
  if (production && !keysText) throw new ConfigError('API_KEYS', 'is required when NODE_ENV=production (the development keys are public)');
  let apiKeys: ApiKey[];
  try {
    apiKeys = parseApiKeys(keysText ?? defaults.developmentApiKeys, defaults.scopes);
  } catch (error) {
    throw new ConfigError('API_KEYS', (error as Error).message);
  }
  return {
    production,
    databaseUrl: env.url('DATABASE_URL', ['postgres:', 'postgresql:'], `postgres://postgres@127.0.0.1:5432/${defaults.database}`),
    natsServers: env.urlList('NATS_URL', ['nats:', 'tls:'], 'nats://127.0.0.1:4222'),
    natsStreamReplicas: env.int('NATS_STREAM_REPLICAS', 1, { min: 1, max: 5 }),
    grpcHost: env.string('GRPC_HOST', '0.0.0.0'),
    grpcPort: env.int('GRPC_PORT', defaults.grpcPort, { min: 0, max: 65535 }),
    logLevel: env.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
    apiKeys,
    tls: readTls(env),
    shutdownGraceMs: env.int('SHUTDOWN_GRACE_MS', 10_000, { min: 0, max: 600_000 }),
    outboxDrainMs: env.int('OUTBOX_DRAIN_MS', 2_000, { min: 0, max: 60_000 }),
    dbPoolMax: env.int('DB_POOL_MAX', 10, { min: 1, max: 500 }),
    dbPreparedStatements: env.bool('DATABASE_PREPARED_STATEMENTS', true),
    metricsPort: env.int('METRICS_PORT', defaults.metricsPort, { min: 0, max: 65535 }),
    crashAt: readCrashAt(env, production),
  };
}
