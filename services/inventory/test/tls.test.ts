import { writeFileSync } from 'node:fs';
import { credentials, Metadata, status as Code, type ChannelCredentials } from '@grpc/grpc-js';
import { expect } from 'chai';
import { ConfigError } from '#libs/config/env.js';
import { HealthCheckResponse_ServingStatus as Serving, HealthClient } from '#libs/contracts/grpc/health/v1/health.js';
import * as messages from '#libs/contracts/larder/inventory/v1/inventory_service.js';
import { InventoryServiceService } from '#libs/contracts/larder/inventory/v1/inventory_service.js';
import { createPromiseClient } from '#libs/grpc/client.js';
import { createTestCertificates, opensslUnavailable, type TestCertificates } from '#test/support/certificates.js';
import { expectGrpcError } from '#test/support/grpc-errors.js';
import { readInventoryConfig } from '../config.js';
import { ADMIN_KEY, startTestInventory, type InventoryApi, type TestInventory } from './harness.js';

/** Every call here is bounded by this; a refused connection must fail well before it. */
const DEADLINE_MS = 3_000;

describe('TLS and mTLS on the gRPC port', function () {
  this.timeout(60_000);
  let certs: TestCertificates | undefined;
  const closers: (() => void)[] = [];

  before(async function () {
    const why = opensslUnavailable();
    if (why) {
      // Installing packages from a test is not allowed: skip, loudly.
      console.warn(`    skipping TLS tests: ${why}`);
      this.skip();
    }
    certs = await createTestCertificates();
  });
  after(async () => {
    for (const close of closers.splice(0)) close();
    await certs?.remove();
  });

  /** Health/Check of the whole server, bounded by DEADLINE_MS. */
  function healthCheck(address: string, channel: ChannelCredentials): Promise<Serving> {
    const health = new HealthClient(address, channel);
    closers.push(() => health.close());
    return new Promise((resolve, reject) =>
      health.check({ service: '' }, new Metadata(), { deadline: Date.now() + DEADLINE_MS }, (error, response) =>
        error ? reject(error) : resolve(response.status),
      ),
    );
  }

  function apiClient(address: string, channel: ChannelCredentials): InventoryApi {
    const client = createPromiseClient(InventoryServiceService, messages, address, {
      credentials: channel,
      defaults: { apiKey: ADMIN_KEY, timeoutMs: DEADLINE_MS },
    });
    closers.push(() => client.close());
    return client;
  }

  describe('TLS only (TLS_CERT_FILE + TLS_KEY_FILE)', () => {
    let inv: TestInventory | undefined;

    before(async () => {
      inv = await startTestInventory({ env: { TLS_CERT_FILE: certs!.server.cert, TLS_KEY_FILE: certs!.server.key } });
    });
    after(async () => {
      await inv?.stop();
    });

    it('answers a client that trusts the CA: Health/Check SERVING and ListProducts with the admin key', async () => {
      const tls = credentials.createSsl(certs!.pem.ca);
      expect(await healthCheck(inv!.address, tls)).to.equal(Serving.SERVING);
      const page = await apiClient(inv!.address, tls).listProducts({ pageSize: 10 });
      expect(page.products).to.be.an('array');
    });

    it('refuses a plaintext client with UNAVAILABLE, well within the deadline', async () => {
      const started = Date.now();
      await expectGrpcError(apiClient(inv!.address, credentials.createInsecure()).listProducts({ pageSize: 10 }), Code.UNAVAILABLE);
      expect(Date.now() - started).to.be.below(DEADLINE_MS);
    });
  });

  describe('mTLS (TLS_CA_FILE as well)', () => {
    let inv: TestInventory | undefined;

    before(async () => {
      inv = await startTestInventory({
        env: { TLS_CERT_FILE: certs!.server.cert, TLS_KEY_FILE: certs!.server.key, TLS_CA_FILE: certs!.ca.cert },
      });
    });
    after(async () => {
      await inv?.stop();
    });

    it('answers a client presenting a certificate the CA signed', async () => {
      const mtls = credentials.createSsl(certs!.pem.ca, certs!.pem.clientKey, certs!.pem.client);
      expect(await healthCheck(inv!.address, mtls)).to.equal(Serving.SERVING);
      const page = await apiClient(inv!.address, mtls).listProducts({ pageSize: 10 });
      expect(page.products).to.be.an('array');
    });

    it('refuses a TLS client without a client certificate with UNAVAILABLE, well within the deadline', async () => {
      const started = Date.now();
      await expectGrpcError(apiClient(inv!.address, credentials.createSsl(certs!.pem.ca)).listProducts({ pageSize: 10 }), Code.UNAVAILABLE);
      expect(Date.now() - started).to.be.below(DEADLINE_MS);
    });
  });

  describe('configuration', () => {
    function configError(env: Record<string, string>): ConfigError {
      try {
        readInventoryConfig(env);
      } catch (error) {
        expect(error).to.be.instanceOf(ConfigError);
        return error as ConfigError;
      }
      expect.fail(`readInventoryConfig accepted ${JSON.stringify(env)}`);
    }

    it('refuses TLS_KEY_FILE without TLS_CERT_FILE, naming TLS_CERT_FILE', () => {
      const error = configError({ TLS_KEY_FILE: certs!.server.key });
      expect(error.variable).to.equal('TLS_CERT_FILE');
      expect(error.message).to.match(/^TLS_CERT_FILE: /);
    });

    it('refuses unusable files at start, naming the variable: garbage certificate, key of another certificate, garbage CA', () => {
      const garbage = `${certs!.dir}/garbage.pem`;
      writeFileSync(garbage, 'not a certificate');
      expect(configError({ TLS_CERT_FILE: garbage, TLS_KEY_FILE: certs!.server.key }).variable).to.equal('TLS_CERT_FILE');
      const mismatch = configError({ TLS_CERT_FILE: certs!.server.cert, TLS_KEY_FILE: certs!.client.key });
      expect(mismatch.variable).to.equal('TLS_KEY_FILE');
      expect(mismatch.message).to.contain('not the private key');
      const badCa = configError({ TLS_CERT_FILE: certs!.server.cert, TLS_KEY_FILE: certs!.server.key, TLS_CA_FILE: garbage });
      expect(badCa.variable).to.equal('TLS_CA_FILE');
    });

    it('refuses a TLS_CERT_FILE that does not exist, naming TLS_CERT_FILE and the path', () => {
      const missing = `${certs!.dir}/no-such-cert.pem`;
      const error = configError({ TLS_CERT_FILE: missing, TLS_KEY_FILE: certs!.server.key });
      expect(error.variable).to.equal('TLS_CERT_FILE');
      expect(error.message).to.match(/^TLS_CERT_FILE: /);
      expect(error.message).to.contain(missing);
    });
  });
});
