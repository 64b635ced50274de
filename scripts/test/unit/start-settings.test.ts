import { expect } from 'chai';
import { createServer } from 'node:net';
import { banner } from '../../start/banner.js';
import { takenPorts } from '../../start/ports.js';
import { readStartSettings, StartSettingsError } from '../../start/settings.js';
import { freePort } from '#test/support/free-port.js';

// npm start's settings live in scripts/, which the mocha spec does not cover; their test lives here.

function refusal(env: Record<string, string>): string[] {
  try {
    readStartSettings(env);
  } catch (error) {
    if (error instanceof StartSettingsError) return error.problems;
    throw error;
  }
  throw new Error(`expected npm start to refuse ${JSON.stringify(env)}`);
}

describe('npm start settings (scripts/start/settings.ts)', () => {
  it("uses the services' own default ports and development keys", () => {
    const [inventory, order] = readStartSettings({});
    expect(inventory).to.include({ name: 'inventory', entry: 'services/inventory/main.ts', grpcPort: 50051, metricsPort: 9464 });
    expect(order).to.include({ name: 'order', entry: 'services/order/main.ts', grpcPort: 50052, metricsPort: 9465 });
    expect(inventory!.developmentKeys.map((k) => k.key)).to.deep.equal([
      'dev-inventory-admin-key',
      'dev-storefront-key',
      'dev-order-service-key',
      'dev-warehouse-key',
    ]);
    expect(order!.developmentKeys.map((k) => k.key)).to.deep.equal(['dev-order-admin-key', 'dev-storefront-key', 'dev-order-support-key']);
  });

  it('runs the TypeScript through tsx, except with NODE_ENV=production: the compiled dist/ (npm run build) on plain node', () => {
    for (const env of [{}, { NODE_ENV: 'development' }, { NODE_ENV: 'test' }]) {
      for (const service of readStartSettings(env)) {
        expect(service, JSON.stringify(env)).to.deep.include({
          entry: `services/${service.name}/main.ts`,
          nodeArgs: ['--import', 'tsx'],
          compiled: false,
        });
      }
    }
    const sources = readStartSettings({}).map((s) => s.entry);
    const compiled = readStartSettings({ NODE_ENV: 'production' });
    expect(compiled.map((s) => s.entry)).to.deep.equal(['dist/services/inventory/main.js', 'dist/services/order/main.js']);
    // Where tsc (tsconfig.build.json: rootDir '.', outDir dist) puts each source.
    expect(compiled.map((s) => s.entry)).to.deep.equal(sources.map((source) => `dist/${source.replace(/\.ts$/, '.js')}`));
    for (const service of compiled) expect(service).to.deep.include({ nodeArgs: [], compiled: true });
  });

  it('refuses a NODE_ENV the services would refuse', () => {
    expect(refusal({ NODE_ENV: 'prod' })).to.deep.equal(['NODE_ENV: must be one of development, production, test, got "prod".']);
  });

  it('honours the per-service ports', () => {
    const [inventory, order] = readStartSettings({
      INVENTORY_GRPC_PORT: '6001',
      INVENTORY_METRICS_PORT: '6002',
      ORDER_GRPC_PORT: '6003',
      ORDER_METRICS_PORT: '6004',
    });
    expect([inventory!.grpcPort, inventory!.metricsPort, order!.grpcPort, order!.metricsPort]).to.deep.equal([6001, 6002, 6003, 6004]);
  });

  it('refuses the single-service variables, naming the per-service ones to use instead', () => {
    expect(refusal({ DATABASE_URL: 'postgres://x/y' })).to.deep.equal([
      'DATABASE_URL cannot be used with npm start, which runs two services: set INVENTORY_DATABASE_URL and/or ORDER_DATABASE_URL instead.',
    ]);
    expect(refusal({ GRPC_PORT: '7000' })[0]).to.contain('set INVENTORY_GRPC_PORT and/or ORDER_GRPC_PORT instead');
    expect(refusal({ METRICS_PORT: '7000' })[0]).to.contain('set INVENTORY_METRICS_PORT and/or ORDER_METRICS_PORT instead');
    expect(refusal({ INVENTORY_ADDR: '127.0.0.1:1' })[0]).to.match(/^INVENTORY_ADDR .*INVENTORY_GRPC_PORT/);
    expect(refusal({ TLS_CERT_FILE: '/x.pem' })[0]).to.match(/^TLS_CERT_FILE .*plaintext/);
  });

  it('lists every problem at once', () => {
    expect(refusal({ DATABASE_URL: 'postgres://x/y', GRPC_PORT: '1', METRICS_PORT: '2' })).to.have.length(3);
  });

  it('ignores a refused variable set to an empty string, as the services do', () => {
    expect(readStartSettings({ DATABASE_URL: '', METRICS_PORT: ' ' })).to.have.length(2);
  });

  it('refuses two servers on one port, naming both variables (and a default as such)', () => {
    expect(refusal({ INVENTORY_GRPC_PORT: '7000', ORDER_GRPC_PORT: '7000' })).to.deep.equal([
      'INVENTORY_GRPC_PORT and ORDER_GRPC_PORT are both 7000: every server needs its own port.',
    ]);
    expect(refusal({ ORDER_METRICS_PORT: '50051' })).to.deep.equal([
      'INVENTORY_GRPC_PORT (default 50051) and ORDER_METRICS_PORT are both 50051: every server needs its own port.',
    ]);
    expect(refusal({ INVENTORY_METRICS_PORT: '7000', INVENTORY_GRPC_PORT: '7000' })[0]).to.contain('are both 7000');
  });

  it('refuses a port that is not 1-65535, naming the variable', () => {
    expect(refusal({ ORDER_GRPC_PORT: 'http' })).to.deep.equal(['ORDER_GRPC_PORT: must be an integer, got "http".']);
    expect(refusal({ INVENTORY_GRPC_PORT: '0' })[0]).to.equal('INVENTORY_GRPC_PORT: must be between 1 and 65535, got 0.');
    expect(refusal({ INVENTORY_METRICS_PORT: '70000' })[0]).to.match(/^INVENTORY_METRICS_PORT: must be between 1 and 65535/);
  });

  it('refuses a GRPC_HOST that npm start cannot reach on 127.0.0.1', () => {
    expect(refusal({ GRPC_HOST: '10.1.2.3' })[0]).to.match(/^GRPC_HOST must be one of .*got "10.1.2.3"/);
    for (const host of ['0.0.0.0', '::', '127.0.0.1']) expect(readStartSettings({ GRPC_HOST: host })).to.have.length(2);
  });
});

describe('npm start banner (scripts/start/banner.ts)', () => {
  const services = readStartSettings({});
  const text = banner(services, { seconds: 1.25, customerId: '6f1c1b7e-2d2a-4a8e-9f57-1d1f0c7a9b10', ownKeys: false });

  it('lists every development key of every service with its scopes', () => {
    const lines = text.split('\n');
    const keys = services.flatMap((s) => s.developmentKeys.map((k) => ({ service: s.name, key: k })));
    expect(keys).to.have.length(7);
    for (const { service, key } of keys) {
      const scopes = key.scopes.has('*') ? 'every scope' : [...key.scopes].join(', ');
      const line = lines.find((l) => new RegExp(`\\s${key.key}\\s+${scopes}$`).test(l));
      expect(line, `${service} ${key.key}`).to.not.equal(undefined);
    }
    // The two the banner used to leave out.
    expect(keys.map((k) => k.key.key)).to.include.members(['dev-order-service-key', 'dev-order-support-key']);
  });

  it('shows the ports in use', () => {
    const moved = readStartSettings({ INVENTORY_GRPC_PORT: '6001', ORDER_METRICS_PORT: '6004' });
    const shown = banner(moved, { seconds: 1, customerId: 'c', ownKeys: false });
    expect(shown).to.contain('127.0.0.1:6001');
    expect(shown).to.contain('http://127.0.0.1:6004/metrics');
    expect(shown).to.contain('http://127.0.0.1:6001/larder.inventory.v1.InventoryService/ListProducts');
  });

  it('says the development keys are off when API_KEYS is set, and lists none', () => {
    const own = banner(services, { seconds: 1, customerId: 'c', ownKeys: true });
    expect(own).to.contain('the ones in API_KEYS');
    expect(own).not.to.contain('dev-order-admin-key');
  });
});

describe('npm start port check (scripts/start/ports.ts)', () => {
  it('names a taken port and the variable to change, and passes free ones', async () => {
    const [inventoryGrpc, inventoryMetrics, orderGrpc, orderMetrics] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const services = readStartSettings({
      INVENTORY_GRPC_PORT: String(inventoryGrpc),
      INVENTORY_METRICS_PORT: String(inventoryMetrics),
      ORDER_GRPC_PORT: String(orderGrpc),
      ORDER_METRICS_PORT: String(orderMetrics),
    });
    expect(await takenPorts(services, '0.0.0.0')).to.deep.equal([]);
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(orderMetrics, '127.0.0.1', resolve));
    try {
      expect(await takenPorts(services, '0.0.0.0')).to.deep.equal([
        `Port ${orderMetrics} (order metrics) is in use, perhaps by another npm start: stop it, or set ORDER_METRICS_PORT to a free port.`,
      ]);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });
});
