import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startTestInventory, type TestInventory } from '../../services/inventory/test/harness.js';

// `npm run call` against a real inventory service (its own database), run the way npm runs it: a child process under tsx.

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
  let inventory: TestInventory;
  let env: Record<string, string>;
  let productId: string;

  before(async () => {
    inventory = await startTestInventory();
    env = { INVENTORY_ADDR: inventory.address };
    const { product } = await inventory.api.createProduct({
      product: { sku: 'CALL-PEAR-1KG', name: 'Conference pears 1 kg', price: { currencyCode: 'EUR', minorUnits: 259 } },
      initialStock: 10,
    });
    productId = product!.id;
  });

  after(async () => {
    await inventory?.stop();
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
