import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { ConfigError, type Env } from '#libs/config/env.js';
import { DEVELOPMENT_API_KEYS, readInventoryConfig } from '../../config.js';

const PRODUCTION_KEY = 'prod-admin-key-0123456789abcdef';

function configError(env: Env): ConfigError {
  try {
    readInventoryConfig(env);
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`expected readInventoryConfig to refuse ${JSON.stringify(env)}`);
}

describe('services/inventory/config', () => {
  describe('readInventoryConfig defaults', () => {
    it('serves gRPC on 0.0.0.0:50051 against the local inventory database', () => {
      const config = readInventoryConfig({});
      expect(config.grpcPort).to.equal(50051);
      expect(config.grpcHost).to.equal('0.0.0.0');
      expect(config.databaseUrl).to.equal('postgres://postgres@127.0.0.1:5432/larder_inventory');
      expect(config.natsServers).to.deep.equal(['nats://127.0.0.1:4222']);
      expect(config.natsStreamReplicas).to.equal(1);
      expect(config.logLevel).to.equal('info');
      expect(config.production).to.equal(false);
      expect(config.tls).to.equal(undefined);
    });

    it('caches the catalog by default (10,000 entries, 64 MB, 60 s, 1 s fallback); CATALOG_CACHE=false turns it off', () => {
      expect(readInventoryConfig({}).catalogCache).to.deep.equal({
        maxEntries: 10_000,
        maxBytes: 64 * 1024 * 1024,
        ttlMs: 60_000,
        fallbackTtlMs: 1_000,
      });
      expect(readInventoryConfig({ CATALOG_CACHE: 'false' }).catalogCache).to.equal(undefined);
      expect(
        readInventoryConfig({ CATALOG_CACHE_TTL_MS: '500' }).catalogCache?.fallbackTtlMs,
        'the fallback never outlives the TTL',
      ).to.equal(500);
      expect(configError({ CATALOG_CACHE: 'maybe' }).message).to.include('CATALOG_CACHE');
      expect(configError({ CATALOG_CACHE_MAX_ENTRIES: '0' }).message).to.include('CATALOG_CACHE_MAX_ENTRIES');
      expect(configError({ CATALOG_CACHE_TTL_MS: '1000', CATALOG_CACHE_FALLBACK_TTL_MS: '2000' }).message).to.include(
        'CATALOG_CACHE_FALLBACK_TTL_MS',
      );
    });

    it('holds a reservation for 15 minutes by default', () => {
      const config = readInventoryConfig({});
      expect(config.defaultReservationTtlMs).to.equal(15 * 60_000);
      expect(config.sweepIntervalMs).to.equal(1_000);
      expect(config.outboxPollMs).to.equal(200);
    });

    it('uses the documented development keys outside production', () => {
      const keys = readInventoryConfig({}).apiKeys;
      expect(keys.map((k) => k.name)).to.deep.equal(['admin', 'storefront', 'order-service', 'warehouse']);
      expect(keys.find((k) => k.name === 'admin')!.scopes.has('*')).to.equal(true);
      expect(DEVELOPMENT_API_KEYS).to.contain('dev-inventory-admin-key');
      expect(readInventoryConfig({ NODE_ENV: 'test' }).apiKeys).to.have.length(4);
    });

    it('treats blank variables as unset', () => {
      expect(readInventoryConfig({ GRPC_PORT: '  ', LOG_LEVEL: '' }).grpcPort).to.equal(50051);
    });

    it('reads valid overrides', () => {
      const config = readInventoryConfig({ GRPC_PORT: '6000', LOG_LEVEL: 'debug', RESERVATION_TTL_MS: '1000', NODE_ENV: 'test' });
      expect(config.grpcPort).to.equal(6000);
      expect(config.logLevel).to.equal('debug');
      expect(config.defaultReservationTtlMs).to.equal(1000);
    });
  });

  describe('readInventoryConfig refusals', () => {
    const cases: [string, Env][] = [
      ['GRPC_PORT', { GRPC_PORT: 'x' }],
      ['GRPC_PORT', { GRPC_PORT: '65536' }],
      ['LOG_LEVEL', { LOG_LEVEL: 'loud' }],
      ['RESERVATION_TTL_MS', { RESERVATION_TTL_MS: '5' }],
      ['RESERVATION_TTL_MS', { RESERVATION_TTL_MS: '1.5' }],
      ['SWEEP_INTERVAL_MS', { SWEEP_INTERVAL_MS: '10' }],
      ['OUTBOX_POLL_MS', { OUTBOX_POLL_MS: 'soon' }],
      ['NODE_ENV', { NODE_ENV: 'prod' }],
      ['API_KEYS', { API_KEYS: 'garbage' }],
      ['DATABASE_URL', { DATABASE_URL: 'mysql://localhost/x' }],
      ['NATS_URL', { NATS_URL: 'not a url' }],
    ];
    for (const [variable, env] of cases) {
      it(`refuses ${JSON.stringify(env)}, naming ${variable}`, () => {
        const error = configError(env);
        expect(error.variable).to.equal(variable);
        expect(error.message.startsWith(`${variable}: `)).to.equal(true);
      });
    }

    it('does not echo a key from a bad API_KEYS entry', () => {
      const error = configError({ API_KEYS: `admin=${PRODUCTION_KEY}:*;shop=${PRODUCTION_KEY}:reservations` });
      expect(error.variable).to.equal('API_KEYS');
      expect(error.message).not.to.contain(PRODUCTION_KEY);
    });

    it('refuses production without API_KEYS', () => {
      expect(configError({ NODE_ENV: 'production' }).variable).to.equal('API_KEYS');
      expect(configError({ NODE_ENV: 'production', API_KEYS: '  ' }).variable).to.equal('API_KEYS');
    });

    it('accepts production with API_KEYS, and uses only those keys', () => {
      const config = readInventoryConfig({ NODE_ENV: 'production', API_KEYS: `ops=${PRODUCTION_KEY}:catalog.read,stock.write` });
      expect(config.production).to.equal(true);
      expect(config.apiKeys).to.have.length(1);
      expect(config.apiKeys[0]!.name).to.equal('ops');
      expect([...config.apiKeys[0]!.scopes]).to.deep.equal(['catalog.read', 'stock.write']);
    });

    it('refuses API_KEYS naming a scope the inventory service does not have', () => {
      expect(configError({ API_KEYS: `ops=${PRODUCTION_KEY}:orders.write` }).variable).to.equal('API_KEYS');
    });
  });

  describe('readInventoryConfig TLS', () => {
    let dir: string;
    let cert: string;
    let key: string;

    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'larder-config-unit-'));
      cert = join(dir, 'cert.pem');
      key = join(dir, 'key.pem');
      writeFileSync(cert, 'CERT');
      writeFileSync(key, 'KEY');
    });

    after(() => rmSync(dir, { recursive: true, force: true }));

    it('refuses files that are not PEM certificates, naming TLS_CERT_FILE (real ones: tls.test.ts)', () => {
      const error = configError({ TLS_CERT_FILE: cert, TLS_KEY_FILE: key });
      expect(error.variable).to.equal('TLS_CERT_FILE');
      expect(error.message).to.contain('not a usable PEM file');
    });

    it('refuses a TLS_CERT_FILE that does not exist', () => {
      const missing = join(dir, 'missing.pem');
      const error = configError({ TLS_CERT_FILE: missing, TLS_KEY_FILE: key });
      expect(error.variable).to.equal('TLS_CERT_FILE');
      expect(error.message).to.contain(missing);
    });

    it('refuses a TLS_KEY_FILE that does not exist', () => {
      expect(configError({ TLS_CERT_FILE: cert, TLS_KEY_FILE: join(dir, 'missing.pem') }).variable).to.equal('TLS_KEY_FILE');
    });

    it('refuses TLS_KEY_FILE without TLS_CERT_FILE, naming TLS_CERT_FILE', () => {
      expect(configError({ TLS_KEY_FILE: key }).variable).to.equal('TLS_CERT_FILE');
    });

    it('refuses TLS_CERT_FILE without TLS_KEY_FILE, naming TLS_KEY_FILE', () => {
      expect(configError({ TLS_CERT_FILE: cert }).variable).to.equal('TLS_KEY_FILE');
    });
  });
});
