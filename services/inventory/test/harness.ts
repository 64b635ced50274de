import { expect } from 'chai';
import type { Knex } from 'knex';
import * as messages from '#libs/contracts/larder/inventory/v1/inventory_service.js';
import { InventoryServiceService } from '#libs/contracts/larder/inventory/v1/inventory_service.js';
import type { Product } from '#libs/contracts/larder/inventory/v1/resources.js';
import { createTestDatabase, type TestDatabase } from '#test/support/test-database.js';
import { createPromiseClient, type PromiseClient } from '#libs/grpc/client.js';
import { silentLogger } from '#libs/logging/logger.js';
import { testNatsUrl } from '#test/support/root-hooks.js';
import { startInventory, type RunningInventory } from '../app.js';
import { readInventoryConfig } from '../config.js';
import { findInvariantViolations } from '../data/invariants.js';
import { inventoryMigrations } from '../migrations/index.js';
import type { Clock } from '#libs/timers/clock.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '#test/support/free-port.js';
import { serviceProcess, type ServiceProcess } from '#test/support/service-process.js';

export const ADMIN_KEY = 'dev-inventory-admin-key';
export const STOREFRONT_KEY = 'dev-storefront-key';
export const WAREHOUSE_KEY = 'dev-warehouse-key';

export type InventoryApi = PromiseClient<typeof InventoryServiceService>;

export interface TestInventory {
  api: InventoryApi;
  /** The test's own database (separate pool from the service's). */
  db: Knex;
  database: TestDatabase;
  running: RunningInventory;
  address: string;
  /** A client with another key (closed by stop()). */
  clientWith(apiKey: string): InventoryApi;
  stop(): Promise<void>;
}

export interface TestInventoryOptions {
  clock?: Clock;
  natsUrl?: string;
  env?: Record<string, string>;
  /** Use this database instead of a fresh, fully migrated one. */
  database?: TestDatabase;
}

/** A real inventory service (gRPC on a free port) on its own fresh database, in one line. */
export async function startTestInventory(options: TestInventoryOptions = {}): Promise<TestInventory> {
  const database = options.database ?? (await createTestDatabase('inventory', inventoryMigrations));
  const config = readInventoryConfig({
    DATABASE_URL: database.url,
    NATS_URL: options.natsUrl ?? testNatsUrl(),
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: '0',
    LOG_LEVEL: 'silent',
    DB_POOL_MAX: '20',
    SWEEP_INTERVAL_MS: '100',
    OUTBOX_POLL_MS: '50',
    SHUTDOWN_GRACE_MS: '2000',
    METRICS_PORT: '0',
    // `CATALOG_CACHE=false npm test` runs every test with the catalog cache off (docs/testing.md).
    ...(process.env.CATALOG_CACHE === undefined ? {} : { CATALOG_CACHE: process.env.CATALOG_CACHE }),
    ...options.env,
  });
  const running = await startInventory(config, silentLogger(), options.clock);
  const address = `127.0.0.1:${running.port}`;
  const clients: InventoryApi[] = [];
  const clientWith = (apiKey: string) => {
    const client = createPromiseClient(InventoryServiceService, messages, address, { defaults: { apiKey } });
    clients.push(client);
    return client;
  };
  const api = clientWith(ADMIN_KEY);
  return {
    api,
    db: database.db,
    database,
    running,
    address,
    clientWith,
    async stop() {
      for (const client of clients) client.close();
      await running.stop();
      await database.drop();
    },
  };
}

/**
 * Mocha hooks for a describe(): one inventory on a fresh database for all of its
 * tests, stock conservation checked after each. Call it at the top of the describe.
 */
export function testInventoryPerSuite(options: TestInventoryOptions = {}): () => TestInventory {
  let inv: TestInventory | undefined;
  before(async () => {
    inv = await startTestInventory(options);
  });
  after(async () => inv?.stop());
  afterEach(async () => {
    expect(await findInvariantViolations(inv!.db)).to.deep.equal([]);
  });
  return () => inv!;
}

let skuCounter = 0;

/** Creates a product with the given stock (and a unique SKU). */
export async function createTestProduct(api: InventoryApi, fields: Partial<Product> & { initialStock?: number } = {}): Promise<Product> {
  const { initialStock = 10, ...product } = fields;
  skuCounter += 1;
  const response = await api.createProduct({
    product: {
      sku: `TEST-${process.pid}-${Date.now().toString(36)}-${skuCounter}`,
      name: `Test product ${skuCounter}`,
      price: { currencyCode: 'EUR', minorUnits: 199 },
      ...product,
    },
    initialStock,
  });
  return response.product!;
}

/** A clock tests can move forward; starts at the real time. */
export function manualClock(start = new Date()): Clock & { advance(ms: number): void } {
  let now = start.getTime();
  return {
    now: () => new Date(now),
    advance: (ms: number) => {
      now += ms;
    },
  };
}

/** Stock of one product through the API. */
export async function stockOf(api: InventoryApi, productId: string) {
  return (await api.batchGetStockLevels({ productIds: [productId] })).stockLevels[0]!;
}

/**
 * An inventory as a process of its own on `databaseUrl` (not started yet), for
 * tests that kill it or run several: quiet logs, a pool of 10, no periodic
 * invariant scan (the tests check it themselves); its log in a temp directory
 * named after `tag`.
 */
export async function inventoryProcess(databaseUrl: string, tag: string, env: Record<string, string> = {}): Promise<ServiceProcess> {
  return serviceProcess(
    'services/inventory/main.ts',
    await freePort(),
    {
      DATABASE_URL: databaseUrl,
      NATS_URL: testNatsUrl(),
      LOG_LEVEL: 'warn',
      METRICS_PORT: '0',
      DB_POOL_MAX: '10',
      INVARIANT_CHECK_INTERVAL_MS: '0',
      ...env,
    },
    join(mkdtempSync(join(tmpdir(), `larder-${tag}-`)), 'inventory.log'),
  );
}
