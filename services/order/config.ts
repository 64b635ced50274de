import { readCommonConfig, type CommonConfig } from '#libs/config/common.js';
import { envReader, type Env } from '#libs/config/env.js';
import { parseGrpcTarget } from '#libs/config/grpc-target.js';
import { readTokenConfig } from '#libs/config/tokens.js';
import type { TokenSettings } from '#libs/grpc/bearer-token.js';
import { ORDER_SCOPES } from './transport/scopes.js';

/** Development keys, documented in docs/configuration.md; refused in production. */
export const DEVELOPMENT_API_KEYS = [
  'admin=dev-order-admin-key:*',
  'storefront=dev-storefront-key:carts,orders.read,orders.write',
  'support=dev-order-support-key:orders.read,orders.admin',
].join(';');

/**
 * RFC 7638 thumbprints of the development key set (deploy/dev-jwks/jwks.json,
 * whose private key is committed beside it): a JWKS holding one is refused in
 * production. A test holds this list to the committed file.
 */
export const DEVELOPMENT_JWKS_THUMBPRINTS = ['n00_XxZ11ADCmE2wpDmL_U4HNRrYIAqD9iCeJDpSWiw'];

export interface RetryPolicy {
  baseMs: number;
  maxMs: number;
  maxAttempts: number;
}

export interface PaymentSimulatorConfig {
  latencyMs: number;
  declineRate: number;
  unavailableRate: number;
  timeoutRate: number;
}

export interface OrderConfig extends CommonConfig {
  /** A grpc-js target: host:port, ipv4:/ipv6: lists or dns:///host:port (libs/config/grpc-target.ts). */
  inventoryAddress: string;
  inventoryApiKey: string;
  inventoryTimeoutMs: number;
  /** Stock-wait retries (AWAITING_STOCK) and transient failures. */
  retry: RetryPolicy;
  /** Payment retries after the gateway said "unavailable" or did not answer. */
  paymentMaxAttempts: number;
  paymentTimeoutMs: number;
  payments: PaymentSimulatorConfig;
  /** PAYMENT_CALL_LOG: a file every gateway call and its answer is appended to (JSON lines), or undefined. */
  paymentCallLog?: string;
  reservationTtlMs: number;
  workerIntervalMs: number;
  workerConcurrency: number;
  leaseMs: number;
  outboxPollMs: number;
  /** End-user tokens (JWT_JWKS_FILE or JWT_JWKS_URL, JWT_ISSUER, JWT_AUDIENCE); undefined when no key set is configured. */
  tokens?: TokenSettings;
}

/** Reads and validates the environment; throws a ConfigError naming the bad variable. */
export function readOrderConfig(env: Env): OrderConfig {
  const read = envReader(env);
  const rate = (name: string) => read.number(name, 0, { min: 0, max: 1 });
  const common = readCommonConfig(read, {
    database: 'larder_order',
    grpcPort: 50052,
    metricsPort: 9465,
    developmentApiKeys: DEVELOPMENT_API_KEYS,
    scopes: ORDER_SCOPES,
  });
  return {
    ...common,
    tokens: readTokenConfig(read, { production: common.production, developmentThumbprints: DEVELOPMENT_JWKS_THUMBPRINTS }),
    inventoryAddress: parseGrpcTarget('INVENTORY_ADDR', read.string('INVENTORY_ADDR', '127.0.0.1:50051')),
    inventoryApiKey: read.string('INVENTORY_API_KEY', 'dev-order-service-key'),
    inventoryTimeoutMs: read.int('INVENTORY_TIMEOUT_MS', 3_000, { min: 100, max: 60_000 }),
    retry: {
      baseMs: read.int('RETRY_BASE_MS', 1_000, { min: 10, max: 3_600_000 }),
      maxMs: read.int('RETRY_MAX_MS', 60_000, { min: 10, max: 86_400_000 }),
      maxAttempts: read.int('RETRY_MAX_ATTEMPTS', 8, { min: 1, max: 1_000 }),
    },
    paymentMaxAttempts: read.int('PAYMENT_MAX_ATTEMPTS', 4, { min: 1, max: 100 }),
    paymentTimeoutMs: read.int('PAYMENT_TIMEOUT_MS', 2_000, { min: 50, max: 60_000 }),
    payments: {
      latencyMs: read.int('PAYMENT_LATENCY_MS', 50, { min: 0, max: 60_000 }),
      declineRate: rate('PAYMENT_DECLINE_RATE'),
      unavailableRate: rate('PAYMENT_UNAVAILABLE_RATE'),
      timeoutRate: rate('PAYMENT_TIMEOUT_RATE'),
    },
    paymentCallLog: read.raw('PAYMENT_CALL_LOG'),
    reservationTtlMs: read.int('ORDER_RESERVATION_TTL_MS', 10 * 60_000, { min: 1_000, max: 24 * 3_600_000 }),
    workerIntervalMs: read.int('WORKER_INTERVAL_MS', 250, { min: 10, max: 60_000 }),
    workerConcurrency: read.int('WORKER_CONCURRENCY', 8, { min: 1, max: 256 }),
    leaseMs: read.int('LEASE_MS', 30_000, { min: 1_000, max: 3_600_000 }),
    outboxPollMs: read.int('OUTBOX_POLL_MS', 200, { min: 10, max: 60_000 }),
  };
}
