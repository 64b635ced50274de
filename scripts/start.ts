/**
 * `npm start`: runs the whole system locally. Creates and migrates the
 * databases, seeds the demo catalog when it is empty, starts every service as
 * its own process, waits until each reports SERVING, and prints how to call
 * them. Ctrl-C (or SIGTERM) stops them gracefully.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createDatabase } from '../libs/db/knex.js';
import { waitUntilServing } from '../libs/grpc/health-probe.js';
import { migrateAll, DATABASES } from './migrate.js';
import { preflight } from './preflight.js';
import { seedInventory } from './seed.js';

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const inventoryDb = DATABASES.find((d) => d.service === 'inventory')!.url;
const orderDb = DATABASES.find((d) => d.service === 'order')!.url;

interface ServiceSpec {
  name: string;
  entry: string;
  port: number;
  env: Record<string, string>;
}

const SERVICES: ServiceSpec[] = [
  {
    name: 'inventory',
    entry: 'services/inventory/main.ts',
    port: Number(process.env.INVENTORY_GRPC_PORT ?? 50051),
    env: { DATABASE_URL: inventoryDb },
  },
  {
    name: 'order',
    entry: 'services/order/main.ts',
    port: Number(process.env.ORDER_GRPC_PORT ?? 50052),
    env: { DATABASE_URL: orderDb, INVENTORY_ADDR: `127.0.0.1:${process.env.INVENTORY_GRPC_PORT ?? 50051}` },
  },
];

async function main(): Promise<void> {
  const started = Date.now();
  const problems = await preflight(inventoryDb, NATS_URL);
  if (problems.length > 0) {
    console.error(`Larder cannot start:\n\n${problems.join('\n\n')}`);
    process.exit(1);
  }
  await migrateAll();
  const db = createDatabase({ url: inventoryDb, poolMax: 1 });
  const empty = Number((await db('products').count<{ count: string }[]>('* as count'))[0]!.count) === 0;
  await db.destroy();
  if (empty) await seedInventory(inventoryDb);

  const children: ChildProcess[] = [];
  let stopping = false;
  const stopAll = (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping services…');
    const alive = children.filter((c) => c.exitCode === null && c.signalCode === null);
    if (alive.length === 0) process.exit(code);
    let remaining = alive.length;
    for (const child of alive) {
      child.once('exit', () => {
        remaining -= 1;
        if (remaining === 0) process.exit(code);
      });
      child.kill('SIGTERM');
    }
    setTimeout(() => process.exit(code || 1), 20_000).unref();
  };
  process.on('exit', () => children.forEach((c) => c.exitCode === null && c.kill('SIGKILL')));
  process.on('SIGINT', () => stopAll(0));
  process.on('SIGTERM', () => stopAll(0));

  for (const service of SERVICES) {
    const child = spawn(process.execPath, ['--import', 'tsx', service.entry], {
      env: { ...process.env, NATS_URL, GRPC_PORT: String(service.port), ...service.env },
      stdio: ['ignore', 'inherit', 'inherit'],
      // Own process group: Ctrl-C reaches only this script, which stops the
      // services once, with SIGTERM (a second signal would force them).
      detached: true,
    });
    child.once('exit', (code, signal) => {
      if (!stopping) {
        console.error(`${service.name} exited (${signal ?? code}); stopping the rest`);
        stopAll(1);
      }
    });
    children.push(child);
  }
  for (const service of SERVICES) {
    if (!(await waitUntilServing(`127.0.0.1:${service.port}`, 30_000, 200))) {
      console.error(`${service.name} did not report SERVING on 127.0.0.1:${service.port} within 30 s`);
      stopAll(1);
      return;
    }
  }
  const call = 'npx buf curl --protocol grpc --http2-prior-knowledge';
  const [inv, ord] = [SERVICES[0]!.port, SERVICES[1]!.port];
  const customer = randomUUID();
  console.log(`
Larder is up in ${((Date.now() - started) / 1000).toFixed(1)} s.

  inventory   127.0.0.1:${inv}   metrics http://127.0.0.1:9464/metrics
  order       127.0.0.1:${ord}   metrics http://127.0.0.1:9465/metrics
  (gRPC with reflection and grpc.health.v1; no .proto files needed)

Development API keys (refused when NODE_ENV=production):
  inventory  dev-inventory-admin-key (every scope), dev-storefront-key (catalog.read, reservations),
             dev-warehouse-key (catalog.read, stock.write)
  order      dev-order-admin-key (every scope), dev-storefront-key (carts, orders.read, orders.write)

Try:
  ${call} -H 'authorization: Bearer dev-storefront-key' -d '{"page_size": 5, "name_contains": "milk"}' \\
      http://127.0.0.1:${inv}/larder.inventory.v1.InventoryService/ListProducts
  ${call} -H 'authorization: Bearer dev-storefront-key' \\
      -d '{"customer_id": "${customer}", "product_id": "<id from above>", "quantity": 2}' \\
      http://127.0.0.1:${ord}/larder.order.v1.CartService/AddCartItem
  ${call} -H 'authorization: Bearer dev-storefront-key' \\
      -d '{"customer_id": "${customer}", "idempotency_key": "my-first-order", "payment_token": "tok_ok"}' \\
      http://127.0.0.1:${ord}/larder.order.v1.OrderService/Checkout
  npm run demo      # a checked tour: checkout, a declined card, a flash sale

Ctrl-C stops everything.`);
}

main().catch((error: unknown) => {
  console.error(`start failed: ${(error as Error).message}`);
  process.exit(1);
});
