import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as inventoryMessages from '#libs/contracts/larder/inventory/v1/inventory_service.js';
import { InventoryServiceService } from '#libs/contracts/larder/inventory/v1/inventory_service.js';
import { LocationKind } from '#libs/contracts/larder/inventory/v1/locations.js';
import type { Product } from '#libs/contracts/larder/inventory/v1/resources.js';
import * as cartMessages from '#libs/contracts/larder/order/v1/cart_service.js';
import { CartServiceService } from '#libs/contracts/larder/order/v1/cart_service.js';
import * as orderMessages from '#libs/contracts/larder/order/v1/order_service.js';
import { OrderServiceService } from '#libs/contracts/larder/order/v1/order_service.js';
import { OrderStatus, type Order } from '#libs/contracts/larder/order/v1/resources.js';
import { createTestDatabase, type TestDatabase } from '#test/support/test-database.js';
import { createPromiseClient, type PromiseClient } from '#libs/grpc/client.js';
import { freePort, delay } from '#test/support/free-port.js';
import { startThrowawayPgBouncer, type ThrowawayPgBouncer } from '#test/support/pgbouncer.js';
import { testNatsUrl } from '#test/support/root-hooks.js';
import { checkInvariants, migrateService, reconcile, type InvariantViolation, type ReconcileOptions } from '#test/support/scripts.js';
import { serviceProcess, type ServiceProcess } from '#test/support/service-process.js';
import { stockAt as restockAt } from '#test/support/stock-at.js';
import { orderMigrations } from '../migrations/index.js';
import type { GatewayCallEntry } from '../payments/recording-gateway.js';
import { callsOf, paymentViolations, readGatewayLog } from './gateway-log.js';

export const INVENTORY_ADMIN_KEY = 'dev-inventory-admin-key';
export const ORDER_ADMIN_KEY = 'dev-order-admin-key';

export type InventoryApi = PromiseClient<typeof InventoryServiceService>;
export type CartApi = PromiseClient<typeof CartServiceService>;
export type OrderApi = PromiseClient<typeof OrderServiceService>;

/** Both services as real processes, each on its own fresh database, sharing the run's throwaway NATS. */
export interface TestSystem {
  inventory: InventoryApi;
  carts: CartApi;
  orders: OrderApi;
  inventoryProcess: ServiceProcess;
  /** The inventoryReplicas extra inventory processes (same database); INVENTORY_ADDR lists them all. */
  inventoryReplicas: ServiceProcess[];
  orderProcess: ServiceProcess;
  inventoryDb: TestDatabase;
  orderDb: TestDatabase;
  orderAddress: string;
  inventoryMetricsPort: number;
  orderMetricsPort: number;
  /** Starts another order process on the same database and NATS (a replica); stopped with the system. */
  addOrderReplica(): Promise<{ process: ServiceProcess; orders: OrderApi }>;
  /** Where the two processes write their logs. */
  logDir: string;
  /** Every payment gateway call of every order process, in order (PAYMENT_CALL_LOG). */
  gatewayLog(): GatewayCallEntry[];
  /** One order's gateway calls as `op:result`, e.g. `['charge:unknown', 'lookup:captured']`. */
  paymentCalls(orderId: string): string[];
  /** Stops everything and drops the databases; then fails if any order broke the payment discipline. */
  stop(): Promise<void>;
}

export interface SystemOptions {
  /** Extra environment for the inventory process. */
  inventoryEnv?: Record<string, string>;
  /** Extra environment for the order process (retry policy, payment knobs…). */
  orderEnv?: Record<string, string>;
  /**
   * Both services reach their databases through this PgBouncer (transaction
   * mode), with DATABASE_PREPARED_STATEMENTS=false unless the env options say
   * otherwise. Migrations and the test's own queries stay direct. Without it,
   * LARDER_TEST_PGBOUNCER=1 makes every system start a pooler of its own, so
   * any system test file can run through one unchanged (docs/scaling.md, PgBouncer).
   */
  pgbouncer?: ThrowawayPgBouncer;
  /** Extra inventory processes on the same inventory database (default 0); the order processes get INVENTORY_ADDR as a list of all. */
  inventoryReplicas?: number;
  /** The PostgreSQL server both databases are created on (default the tests' server; the failover tests pass a Patroni cluster's HAProxy). */
  databaseServer?: string;
}

/**
 * Fast defaults for tests: short polls and retries, quick sweeps. Tests that
 * need other timing pass their own values.
 */
const INVENTORY_DEFAULTS = {
  LOG_LEVEL: 'info',
  SWEEP_INTERVAL_MS: '100',
  OUTBOX_POLL_MS: '50',
  SHUTDOWN_GRACE_MS: '3000',
  METRICS_PORT: '0',
};
const ORDER_DEFAULTS = {
  LOG_LEVEL: 'info',
  OUTBOX_POLL_MS: '50',
  WORKER_INTERVAL_MS: '50',
  RETRY_BASE_MS: '100',
  RETRY_MAX_MS: '1000',
  RETRY_MAX_ATTEMPTS: '5',
  PAYMENT_LATENCY_MS: '0',
  PAYMENT_TIMEOUT_MS: '300',
  PAYMENT_MAX_ATTEMPTS: '3',
  LEASE_MS: '5000',
  INVENTORY_TIMEOUT_MS: '2000',
  SHUTDOWN_GRACE_MS: '3000',
  METRICS_PORT: '0',
};

export async function startSystem(options: SystemOptions = {}): Promise<TestSystem> {
  // Inventory's schema comes from its public migrate script, as in its image: this test reaches no inventory code.
  const [inventoryDb, orderDb] = await Promise.all([
    createTestDatabase('sys_inventory', [], options.databaseServer).then(async (database) => {
      try {
        await migrateService('inventory', database.url);
        return database;
      } catch (error) {
        await database.drop();
        throw error;
      }
    }),
    createTestDatabase('sys_order', orderMigrations, options.databaseServer),
  ]);
  const ownPooler = !options.pgbouncer && process.env.LARDER_TEST_PGBOUNCER === '1';
  const pooler =
    options.pgbouncer ??
    (ownPooler
      ? await startThrowawayPgBouncer().catch(async (error: unknown) => {
          await Promise.all([inventoryDb.drop(), orderDb.drop()]);
          throw error;
        })
      : undefined);
  const pooled = (url: string): Record<string, string> =>
    pooler ? { DATABASE_URL: pooler.route(url), DATABASE_PREPARED_STATEMENTS: 'false' } : { DATABASE_URL: url };
  const stopOwnPooler = async () => {
    if (ownPooler) await pooler?.destroy();
  };
  const logDir = mkdtempSync(join(tmpdir(), 'larder-system-'));
  const [inventoryPort, orderPort, inventoryMetricsPort, orderMetricsPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const natsUrl = testNatsUrl();
  const gatewayLogPath = join(logDir, 'payment-calls.jsonl');
  const inventoryProcess = serviceProcess(
    'services/inventory/main.ts',
    inventoryPort,
    {
      ...INVENTORY_DEFAULTS,
      METRICS_PORT: String(inventoryMetricsPort),
      ...pooled(inventoryDb.url),
      NATS_URL: natsUrl,
      ...options.inventoryEnv,
    },
    join(logDir, 'inventory.log'),
  );
  const inventoryReplicas: ServiceProcess[] = [];
  for (let i = 1; i <= (options.inventoryReplicas ?? 0); i += 1) {
    const env = { ...INVENTORY_DEFAULTS, ...pooled(inventoryDb.url), NATS_URL: natsUrl, ...options.inventoryEnv };
    inventoryReplicas.push(serviceProcess('services/inventory/main.ts', await freePort(), env, join(logDir, `inventory-replica-${i}.log`)));
  }
  const orderEnv = (metricsPort: number) => ({
    ...ORDER_DEFAULTS,
    METRICS_PORT: String(metricsPort),
    ...pooled(orderDb.url),
    NATS_URL: natsUrl,
    INVENTORY_ADDR: [inventoryProcess, ...inventoryReplicas].map((p) => `127.0.0.1:${p.port}`).join(','),
    PAYMENT_CALL_LOG: gatewayLogPath,
    ...options.orderEnv,
  });
  const orderProcess = serviceProcess('services/order/main.ts', orderPort, orderEnv(orderMetricsPort), join(logDir, 'order.log'));
  const replicas: ServiceProcess[] = [];
  try {
    await Promise.all([inventoryProcess.start(), orderProcess.start(), ...inventoryReplicas.map((p) => p.start())]);
  } catch (error) {
    // One failed to start: do not leave the other running, nor the databases behind.
    await Promise.all([inventoryProcess, orderProcess, ...inventoryReplicas].map((p) => p.stop('SIGKILL')));
    await Promise.all([inventoryDb.drop(), orderDb.drop()]);
    await stopOwnPooler();
    throw error;
  }
  const orderAddress = `127.0.0.1:${orderPort}`;
  const inventory = createPromiseClient(InventoryServiceService, inventoryMessages, `127.0.0.1:${inventoryPort}`, {
    defaults: { apiKey: INVENTORY_ADMIN_KEY },
  });
  const carts = createPromiseClient(CartServiceService, cartMessages, orderAddress, { defaults: { apiKey: ORDER_ADMIN_KEY } });
  const orders = createPromiseClient(OrderServiceService, orderMessages, orderAddress, { defaults: { apiKey: ORDER_ADMIN_KEY } });
  const clients: OrderApi[] = [];
  return {
    inventory,
    carts,
    orders,
    inventoryProcess,
    inventoryReplicas,
    orderProcess,
    inventoryDb,
    orderDb,
    orderAddress,
    inventoryMetricsPort,
    orderMetricsPort,
    logDir,
    gatewayLog: () => readGatewayLog(gatewayLogPath),
    paymentCalls: (orderId) => callsOf(readGatewayLog(gatewayLogPath), orderId),
    async addOrderReplica() {
      const port = await freePort();
      const replica = serviceProcess(
        'services/order/main.ts',
        port,
        orderEnv(await freePort()),
        join(logDir, `order-replica-${replicas.length + 1}.log`),
      );
      replicas.push(replica);
      await replica.start();
      const client = createPromiseClient(OrderServiceService, orderMessages, `127.0.0.1:${port}`, {
        defaults: { apiKey: ORDER_ADMIN_KEY },
      });
      clients.push(client);
      return { process: replica, orders: client };
    },
    async stop() {
      for (const client of [inventory, carts, orders, ...clients]) client.close();
      await Promise.all([orderProcess, inventoryProcess, ...inventoryReplicas, ...replicas].map((p) => p.stop()));
      await Promise.all([inventoryDb.drop(), orderDb.drop()]);
      await stopOwnPooler();
      // Every system test checks the saga at the gateway boundary, whatever else it asserts.
      const violations = paymentViolations(readGatewayLog(gatewayLogPath));
      if (violations.length > 0) throw new Error(`payment discipline broken (log: ${gatewayLogPath}):\n${violations.join('\n')}`);
    },
  };
}

let skuCounter = 0;

/** A product with `stock` units and a price, through the real inventory API. */
export async function createProduct(system: TestSystem, stock: number, minorUnits = 250): Promise<Product> {
  skuCounter += 1;
  const { product } = await system.inventory.createProduct({
    product: {
      sku: `SYS-${process.pid}-${Date.now().toString(36)}-${skuCounter}`,
      name: `System product ${skuCounter}`,
      price: { currencyCode: 'EUR', minorUnits },
    },
    initialStock: stock,
  });
  return product!;
}

export async function stockOf(system: TestSystem, productId: string) {
  return (await system.inventory.batchGetStockLevels({ productIds: [productId] })).stockLevels[0]!;
}

export const TERMINAL = new Set([OrderStatus.ORDER_STATUS_DELIVERED, OrderStatus.ORDER_STATUS_CANCELLED, OrderStatus.ORDER_STATUS_FAILED]);

/** Polls GetOrder until `until` holds (bounded: 20 s by default); returns the order. */
export async function waitForOrder(system: TestSystem, id: string, until: (order: Order) => boolean, timeoutMs = 20_000): Promise<Order> {
  const deadline = Date.now() + timeoutMs;
  let order: Order | undefined;
  while (Date.now() < deadline) {
    order = (await system.orders.getOrder({ id })).order!;
    if (until(order)) return order;
    await delay(50);
  }
  throw new Error(`order ${id} stayed ${order ? OrderStatus[order.status] : 'unknown'} (logs: ${system.logDir})`);
}

export const hasStatus =
  (...statuses: OrderStatus[]) =>
  (order: Order): boolean =>
    statuses.includes(order.status);

/** The inventory invariant (docs/design.md §2) on the system's inventory database, by scripts/check-invariants.ts --json. */
export async function inventoryViolations(system: TestSystem): Promise<InvariantViolation[]> {
  return (await checkInvariants(system.inventoryDb.url)).violations;
}

/**
 * scripts/reconcile.ts --json on the system's two databases: every order against
 * its reservation. Strict by default (no grace period): call it once the orders settled.
 */
export async function reconcileSystem(system: TestSystem, options: ReconcileOptions = {}) {
  return reconcile({ inventoryDatabaseUrl: system.inventoryDb.url, orderDatabaseUrl: system.orderDb.url }, options);
}

/** The inventory's address, for a tool that repairs through its API. */
export const inventoryAddressOf = (system: TestSystem): string => `127.0.0.1:${system.inventoryProcess.port}`;

/** (order, status) pairs entered more than once among `orderIds`: two workers ran one step. */
export async function repeatedTransitions(
  system: TestSystem,
  orderIds: readonly string[],
): Promise<{ order_id: string; to_status: string }[]> {
  return system.orderDb
    .db('order_events')
    .whereIn('order_id', orderIds)
    .groupBy('order_id', 'to_status')
    .havingRaw('count(*) > 1')
    .select('order_id', 'to_status');
}

/** Rows the payment simulator recorded for an order (its own books). */
export async function chargesOf(system: TestSystem, orderId: string): Promise<{ status: string }[]> {
  return system.orderDb.db('simulated_charges').where({ order_id: orderId }).select('status');
}

/** A location for the fulfilment tests: where it is, what it does and where it delivers. */
export interface LocationFields {
  code: string;
  coordinates?: { latitude: number; longitude: number };
  delivery?: boolean;
  pickup?: boolean;
  postalCodePrefixes?: string[];
  active?: boolean;
}

/** Creates a location through the inventory API (CreateLocation) and returns its id. */
export async function insertLocation(system: TestSystem, fields: LocationFields): Promise<string> {
  const { location } = await system.inventory.createLocation({
    location: {
      code: `${fields.code}-${randomUUID().slice(0, 8)}`,
      name: `Location ${fields.code}`,
      kind: fields.pickup ? LocationKind.LOCATION_KIND_STORE : LocationKind.LOCATION_KIND_DARK_STORE,
      coordinates: fields.coordinates,
      delivery: fields.delivery ?? false,
      pickup: fields.pickup ?? false,
      deliveryArea: { postalCodePrefixes: fields.postalCodePrefixes ?? [], radiusKm: 0 },
      active: fields.active ?? true,
    },
  });
  return location!.id;
}

/** Restocks `units` of a product at a location, through the inventory API. */
export const stockAt = (system: TestSystem, productId: string, locationId: string, units: number): Promise<void> =>
  restockAt(system.inventory, productId, locationId, units);

/** A product's stock at one location. */
export async function stockAtLocation(system: TestSystem, productId: string, locationId: string) {
  return (await system.inventory.batchGetStockLevels({ productIds: [productId], locationId })).stockLevels[0]!;
}
