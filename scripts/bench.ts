/**
 * `npm run bench`: reservation throughput and latency through the real gRPC
 * API, on a throwaway database and a throwaway inventory process. Two shapes:
 * one hot product (every call contends for one stock row) and 200 products
 * (spread). Bounded: BENCH_SECONDS per shape (default 5), BENCH_CONCURRENCY
 * calls in flight (default 64). Prints figures; asserts nothing but that stock
 * stayed conserved.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as messages from '../libs/contracts/larder/inventory/v1/inventory_service.js';
import { InventoryServiceService } from '../libs/contracts/larder/inventory/v1/inventory_service.js';
import { createTestDatabase } from '../libs/db/test-database.js';
import { createPromiseClient } from '../libs/grpc/client.js';
import { freePort } from '../libs/testing/free-port.js';
import { serviceProcess } from '../libs/testing/service-process.js';
import { findInvariantViolations } from '../services/inventory/data/invariants.js';
import { inventoryMigrations } from '../services/inventory/migrations/index.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

async function main(): Promise<void> {
  const database = await createTestDatabase('bench', inventoryMigrations);
  const port = await freePort();
  const inventory = serviceProcess(
    'services/inventory/main.ts',
    port,
    { DATABASE_URL: database.url, NATS_URL, LOG_LEVEL: 'warn', METRICS_PORT: '0', DB_POOL_MAX: '20', INVARIANT_CHECK_INTERVAL_MS: '0' },
    join(mkdtempSync(join(tmpdir(), 'larder-bench-')), 'inventory.log'),
  );
  const api = createPromiseClient(InventoryServiceService, messages, `127.0.0.1:${port}`, {
    defaults: { apiKey: 'dev-inventory-admin-key' },
  });
  try {
    await inventory.start();
    console.log(`ReserveStock, ${CONCURRENCY} calls in flight, ${SECONDS} s per shape (inventory ${inventory.logFile})\n`);
    for (const shape of [
      { name: 'one hot product', products: 1 },
      { name: '200 products', products: 200 },
    ]) {
      const ids: string[] = [];
      for (let i = 0; i < shape.products; i++) {
        const { product } = await api.createProduct({
          product: {
            sku: `BENCH-${shape.products}-${i}-${randomUUID().slice(0, 6)}`,
            name: `Bench ${i}`,
            price: { currencyCode: 'EUR', minorUnits: 100 },
          },
          initialStock: 1_000_000,
        });
        ids.push(product!.id);
      }
      const latencies: number[] = [];
      let errors = 0;
      const until = Date.now() + SECONDS * 1000;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async (_, worker) => {
          for (let i = worker; Date.now() < until; i += CONCURRENCY) {
            const t0 = performance.now();
            try {
              await api.reserveStock({ orderId: randomUUID(), items: [{ productId: ids[i % ids.length]!, quantity: 1 }] });
              latencies.push(performance.now() - t0);
            } catch {
              errors += 1;
            }
          }
        }),
      );
      const elapsed = (performance.now() - started) / 1000;
      latencies.sort((a, b) => a - b);
      console.log(
        `${shape.name.padEnd(16)} ${String(Math.round(latencies.length / elapsed)).padStart(6)} reservations/s   ` +
          `p50 ${percentile(latencies, 50).toFixed(1)} ms   p99 ${percentile(latencies, 99).toFixed(1)} ms   errors ${errors}`,
      );
    }
    const violations = await findInvariantViolations(database.db);
    console.log(`\ninvariant after the run: ${violations.length === 0 ? 'holds' : `${violations.length} violation(s)`}`);
    if (violations.length) process.exitCode = 1;
  } finally {
    api.close();
    await inventory.stop();
    await database.drop();
  }
}

main().catch((error: unknown) => {
  console.error(`bench failed: ${(error as Error).message}`);
  process.exit(1);
});
