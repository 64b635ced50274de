import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as inventoryMessages from '#libs/contracts/larder/inventory/v1/inventory_service.js';
import { InventoryServiceService } from '#libs/contracts/larder/inventory/v1/inventory_service.js';
import { createPromiseClient } from '#libs/grpc/client.js';
import { freePort } from '#test/support/free-port.js';
import { testNatsUrl } from '#test/support/root-hooks.js';
import { serviceProcess, type ServiceProcess } from '#test/support/service-process.js';
import { createTestDatabase, type TestDatabase } from '#test/support/test-database.js';
import { inventoryMigrations } from '../../services/inventory/operator.js';

// `npm run call` against a real inventory service (its own database), both run the way npm runs them: child processes under tsx.

const SCRIPT = fileURLToPath(new URL('../call.ts', import.meta.url));

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function runCall(args: string[], env: Record<string, string>, options: { interruptAfterFirstLine?: boolean } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const { LARDER_API_KEY: _ownKey, ...inherited } = process.env;
    const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, ...args], {
      env: { ...inherited, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (options.interruptAfterFirstLine && stdout.includes('\n')) child.kill('SIGINT');
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

describe('npm run call (scripts/call.ts)', () => {
  let database: TestDatabase;
  let inventory: ServiceProcess;
  let env: Record<string, string>;
  let productId: string;

  before(async () => {
    database = await createTestDatabase('call', inventoryMigrations);
    const logFile = join(mkdtempSync(join(tmpdir(), 'larder-call-test-')), 'inventory.log');
    inventory = serviceProcess(
      'services/inventory/main.ts',
      await freePort(),
      { DATABASE_URL: database.url, NATS_URL: testNatsUrl(), LOG_LEVEL: 'warn', METRICS_PORT: '0' },
      logFile,
    );
    await inventory.start();
    env = { INVENTORY_ADDR: `127.0.0.1:${inventory.port}` };
    const admin = createPromiseClient(InventoryServiceService, inventoryMessages, env.INVENTORY_ADDR, {
      defaults: { apiKey: 'dev-inventory-admin-key' },
    });
    try {
      const { product } = await admin.createProduct({
        product: { sku: 'CALL-PEAR-1KG', name: 'Conference pears 1 kg', price: { currencyCode: 'EUR', minorUnits: 259 } },
        initialStock: 10,
      });
      productId = product!.id;
    } finally {
      admin.close();
    }
  });

  after(async () => {
    await inventory?.stop();
    await database?.drop();
  });

  it('prints a unary answer as JSON, with proto field names and well-known types as proto3 JSON', async () => {
    const run = await runCall(['InventoryService/GetProduct', JSON.stringify({ id: productId })], env);
    expect(run.stderr).to.equal('');
    expect(run.code).to.equal(0);
    const { product } = JSON.parse(run.stdout) as { product: Record<string, unknown> };
    expect(product).to.include({ id: productId, sku: 'CALL-PEAR-1KG', delete_time: null });
    expect(product.price).to.deep.equal({ currency_code: 'EUR', minor_units: '259' });
    expect(product.stock_level).to.include({ available: '10' });
    expect(product.create_time).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('sends the API key it is given: a key without the scope is PERMISSION_DENIED', async () => {
    const request = JSON.stringify({ product_id: productId, delta: 1, reason: 'ADJUSTMENT_REASON_RESTOCK', idempotency_key: 'call-test' });
    const run = await runCall(['--key', 'dev-storefront-key', 'larder.inventory.v1.InventoryService/AdjustStock', request], env);
    expect(run.code).to.equal(1);
    expect(run.stderr).to.match(/^PERMISSION_DENIED: /);
    expect(run.stderr).to.include('ErrorInfo: reason SCOPE_MISSING, domain larder.dev').and.include('scope: stock.write');
  });

  it('shows bad input as INVALID_ARGUMENT with the field, exit 1', async () => {
    const request = { order_id: '0b8f6a3e-3c55-4c2f-9d7e-5a4f1c2b9e10', items: [{ product_id: productId, quantity: 0 }], ttl: '600s' };
    const run = await runCall(['InventoryService/ReserveStock', JSON.stringify(request)], env);
    expect(run.code).to.equal(1);
    expect(run.stdout).to.equal('');
    expect(run.stderr).to.match(/^INVALID_ARGUMENT: /);
    expect(run.stderr).to.include('ErrorInfo: reason INVALID_ARGUMENT, domain larder.dev').and.include('field: items[0].quantity');
  });

  it('refuses an unknown method with the usage, exit 2, without calling', async () => {
    const run = await runCall(['InventoryService/GetProdukt', '{}'], env);
    expect(run.code).to.equal(2);
    expect(run.stdout).to.equal('');
    expect(run.stderr).to.include('larder.inventory.v1.InventoryService has no method "GetProdukt"').and.include('usage: npm run call');
  });

  it('refuses a field the request message does not have, or an enum value not in the enum (protobufjs would drop both), exit 2', async () => {
    const field = await runCall(['InventoryService/GetProduct', '{"product_id": "x"}'], env);
    expect(field.code).to.equal(2);
    expect(field.stderr).to.include('larder.inventory.v1.GetProductRequest has no field "product_id"');
    const value = await runCall(['InventoryService/AdjustStock', '{"reason": "RESTOCK"}'], env);
    expect(value.code).to.equal(2);
    expect(value.stderr).to.include('reason: "RESTOCK" is not one of ADJUSTMENT_REASON_UNSPECIFIED, ADJUSTMENT_REASON_RESTOCK');
  });

  it('prints a server stream one message per line until Ctrl-C', async () => {
    const run = await runCall(['grpc.health.v1.Health/Watch', '{"service": "larder.inventory.v1.InventoryService"}'], env, {
      interruptAfterFirstLine: true,
    });
    expect(run.stdout.split('\n')[0]).to.equal('{"status":"SERVING"}');
    expect(run.code).to.equal(130);
  });
});
