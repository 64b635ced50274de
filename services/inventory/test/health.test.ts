import { randomUUID } from 'node:crypto';
import { credentials, status as Code } from '@grpc/grpc-js';
import { expect } from 'chai';
import { HealthCheckResponse_ServingStatus as Serving, HealthClient } from '#libs/contracts/grpc/health/v1/health.js';
import { createTestDatabase } from '#test/support/test-database.js';
import { expectGrpcError } from '#test/support/grpc-errors.js';
import { startThrowawayPostgres, type ThrowawayPostgres } from '#test/support/postgres-server.js';
import { inventoryMigrations } from '../migrations/index.js';
import { createTestProduct, startTestInventory, type TestInventory } from './harness.js';

describe('health while the database comes and goes', function () {
  this.timeout(90_000);
  let postgres: ThrowawayPostgres;
  let inv: TestInventory;
  let health: HealthClient;

  before(async () => {
    postgres = await startThrowawayPostgres();
    const database = await createTestDatabase('inventory_health', inventoryMigrations, postgres.url);
    inv = await startTestInventory({ database });
    health = new HealthClient(inv.address, credentials.createInsecure());
  });
  after(async () => {
    health?.close();
    await postgres?.start(); // so the harness can drop its database
    await inv?.stop();
    await postgres?.destroy();
  });

  const check = (service = '') =>
    new Promise<Serving>((resolve, reject) =>
      health.check({ service }, (error, response) => (error ? reject(error) : resolve(response.status))),
    );

  async function waitForStatus(wanted: Serving): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if ((await check('larder.inventory.v1.InventoryService')) === wanted) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`health never became ${Serving[wanted]}`);
  }

  it('is SERVING, then NOT_SERVING with UNAVAILABLE answers while the database is down, then SERVING again', async () => {
    expect(await check()).to.equal(Serving.SERVING);
    const product = await createTestProduct(inv.api, { initialStock: 5 });

    await postgres.stop();
    await waitForStatus(Serving.NOT_SERVING);
    const down = await expectGrpcError(
      inv.api.reserveStock({ orderId: randomUUID(), items: [{ productId: product.id, quantity: 1 }] }),
      Code.UNAVAILABLE,
    );
    expect(down.reason).to.equal('DATABASE_UNAVAILABLE');

    await postgres.start();
    await waitForStatus(Serving.SERVING);
    const { reservation } = await inv.api.reserveStock({ orderId: randomUUID(), items: [{ productId: product.id, quantity: 1 }] });
    expect(reservation!.items[0]!.quantity).to.equal(1);
  });

  it('answers NOT_FOUND for a service it does not run', async () => {
    await expectGrpcError(check('larder.nothing.v1.Nothing'), Code.NOT_FOUND);
  });
});
