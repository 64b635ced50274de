import { Server, ServerCredentials } from '@grpc/grpc-js';
import { expect } from 'chai';
import { HealthRegistry } from '#libs/grpc/health.js';
import { describeImage, describeServiceContainer } from '#test/support/container-checks.js';
import { ignoredByDocker, loadCompose, runNode, words } from '#test/support/container-files.js';
import type { Run } from '#test/support/run-process.js';
import { freePort } from '#test/support/free-port.js';
import { DEVELOPMENT_API_KEYS, readInventoryConfig } from '../config.js';
import { inventoryMigrations } from '../migrations/index.js';
import { startTestInventory, type TestInventory } from './harness.js';

/**
 * The container files, checked without a Docker engine: docker-compose.yml and
 * the root Dockerfile must agree with each other, with the files on disk and
 * with the configuration code (test/support/container-checks.ts: what every
 * image shares here, the per-service checks as for the order service); dist/,
 * built from exactly the files the image's build stage copies, migrates and
 * serves the inventory from the runtime stage's files on plain node;
 * scripts/healthcheck.ts (the image's HEALTHCHECK, compiled) runs for real
 * against a real inventory service. services/order/test/containers.test.ts
 * checks the order side.
 */

const compose = loadCompose();

describe('container files', () => {
  describe('docker-compose.yml', () => {
    it('runs postgres 16, NATS with JetStream (stored on a volume), one migrate job per service and the services', () => {
      // Without a profile asked for; the monitoring profile is test/system/monitoring.test.ts's.
      const byDefault = Object.entries(compose.services).filter(([, service]) => !service.profiles?.length);
      expect(byDefault.map(([name]) => name)).to.have.members([
        'postgres',
        'nats',
        'migrate-inventory',
        'migrate-order',
        'inventory',
        'order',
      ]);
      expect(compose.service('postgres').image).to.match(/^postgres:16(\.|-|$)/);
      expect(compose.service('nats').image).to.match(/^nats:2\.10/);
      const nats = words(compose.service('nats').command);
      expect(nats).to.include('-js');
      const storeDir = nats[nats.indexOf('-sd') + 1] ?? nats[nats.indexOf('--store_dir') + 1];
      expect(storeDir, 'nats store dir (-sd)').to.be.a('string');
      const natsVolumes = (compose.service('nats').volumes ?? []).map((v) => (typeof v === 'string' ? v.split(':')[1] : v.target));
      expect(natsVolumes, 'the JetStream store survives restarts').to.include(storeDir);
    });

    it('health-checks postgres (pg_isready) and nats (/healthz on the monitoring port it opens)', () => {
      for (const name of ['postgres', 'nats']) {
        const check = compose.service(name).healthcheck;
        expect(check?.disable, `${name} healthcheck`).not.to.equal(true);
        expect(words(check?.test).length, `${name} healthcheck test`).to.be.greaterThan(1);
      }
      expect(words(compose.service('postgres').healthcheck?.test).join(' ')).to.include('pg_isready');
      const natsCheck = words(compose.service('nats').healthcheck?.test).join(' ');
      expect(natsCheck).to.include('/healthz');
      const nats = words(compose.service('nats').command);
      expect(natsCheck, 'the monitoring port it asks is the one nats opens').to.include(`:${nats[nats.indexOf('-m') + 1]}/`);
    });
  });

  describe('.dockerignore', () => {
    it('keeps the host node_modules and dist/, .git and every test folder out of the context', () => {
      for (const path of [
        'node_modules',
        'dist',
        'dist/services/inventory/main.js',
        'libs/node_modules/x',
        '.git',
        'services/order/test/system.ts',
        'services/inventory/test',
        'test/support/free-port.ts',
        'test/support/test-database.ts',
        'libs/events/test/helpers.ts',
      ]) {
        expect(ignoredByDocker(path), path).to.equal(true);
      }
      for (const path of ['services/inventory/main.ts', 'libs/db/knex.ts', 'scripts/migrate.ts', 'tsconfig.build.json']) {
        expect(ignoredByDocker(path), path).to.equal(false);
      }
    });
  });

  describeImage();

  describeServiceContainer({
    name: 'inventory',
    readConfig: readInventoryConfig,
    developmentApiKeys: DEVELOPMENT_API_KEYS,
    migrations: inventoryMigrations,
    tables: ['products', 'stock_levels', 'reservations', 'categories', 'outbox', 'inbox'],
    grpcServices: ['larder.inventory.v1.InventoryService'],
  });
});

// ---------- the healthcheck script, run for real ----------

function runHealthcheck(port: number, timeoutMs = 20_000): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, GRPC_PORT: String(port) };
  delete env.GRPC_HOST;
  delete env.TLS_CERT_FILE;
  return runNode(['--import', 'tsx', 'scripts/healthcheck.ts'], { env, timeoutMs });
}

describe('scripts/healthcheck.ts', function () {
  this.timeout(60_000);

  let inventory: TestInventory | undefined;
  after(async () => {
    await inventory?.stop();
  });

  it('exits 0 and prints SERVING against a running inventory service', async () => {
    inventory = await startTestInventory();
    const run = await runHealthcheck(inventory.running.port);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.match(/: SERVING\b/);
  });

  it('exits non-zero when the server answers NOT_SERVING', async () => {
    const server = new Server();
    new HealthRegistry([]).addToServer(server); // every status starts NOT_SERVING
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    );
    try {
      const run = await runHealthcheck(port);
      expect(run.code).to.equal(1);
      expect(run.stdout).to.match(/: NOT_SERVING\b/);
    } finally {
      server.forceShutdown();
    }
  });

  it('exits non-zero, within its 2 s deadline, when nothing listens on GRPC_PORT', async () => {
    const run = await runHealthcheck(await freePort());
    expect(run.code).to.not.equal(0);
    expect(run.stderr).to.match(/no answer/);
    expect(run.ms).to.be.below(15_000);
  });
});
