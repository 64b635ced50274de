import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { ReservationReserved } from '#libs/contracts/larder/inventory/v1/events.js';
import * as messages from '#libs/contracts/larder/inventory/v1/inventory_service.js';
import { InventoryServiceService } from '#libs/contracts/larder/inventory/v1/inventory_service.js';
import { createTestDatabase, type TestDatabase } from '#test/support/test-database.js';
import { createPromiseClient } from '#libs/grpc/client.js';
import { outcomeOf, tally } from '#test/support/grpc-errors.js';
import type { ServiceProcess } from '#test/support/service-process.js';
import { findInvariantViolations } from '../data/invariants.js';
import { inventoryMigrations } from '../migrations/index.js';
import { ADMIN_KEY, createTestProduct, inventoryProcess, stockOf, type InventoryApi } from './harness.js';

/** Coalescing in real inventory processes: two replicas on one product, and a SIGKILL mid-batch. */
describe('ReserveStock batches across processes', function () {
  this.timeout(120_000);
  let database: TestDatabase;
  const started: { process: ServiceProcess; api: InventoryApi }[] = [];

  async function startReplica(): Promise<{ process: ServiceProcess; api: InventoryApi }> {
    const process = await inventoryProcess(database.url, 'batches');
    await process.start();
    const api = createPromiseClient(InventoryServiceService, messages, `127.0.0.1:${process.port}`, { defaults: { apiKey: ADMIN_KEY } });
    started.push({ process, api });
    return { process, api };
  }

  beforeEach(async () => {
    database = await createTestDatabase('inventory', inventoryMigrations);
  });
  afterEach(async () => {
    for (const { process, api } of started.splice(0)) {
      api.close();
      await process.stop('SIGKILL');
    }
    await database.drop();
  });

  it('grants exactly 100 of 300 concurrent buyers across two coalescing replicas', async () => {
    const [one, two] = [await startReplica(), await startReplica()];
    const product = await createTestProduct(one!.api, { initialStock: 100 });
    const orderIds = Array.from({ length: 300 }, () => randomUUID());
    const outcomes = await Promise.all(
      orderIds.map((orderId, i) =>
        outcomeOf((i % 2 === 0 ? one : two)!.api.reserveStock({ orderId, items: [{ productId: product.id, quantity: 1 }] })),
      ),
    );
    expect(tally(outcomes)).to.deep.equal({ OK: 100, FAILED_PRECONDITION: 200 });
    expect(await stockOf(one!.api, product.id)).to.include({ available: 0, reserved: 100, sold: 0 });
    const { rows } = await database.db.raw(
      'select count(*)::int as reservations, count(distinct xmin::text)::int as statements from reservations',
    );
    expect(rows[0].reservations).to.equal(100);
    // Replicas coalesced: fewer statements than reservations.
    expect(rows[0].statements).to.be.below(100);
    expect(await findInvariantViolations(database.db)).to.deep.equal([]);
  });

  it('leaves every acknowledged reservation whole after a SIGKILL with batches in flight', async () => {
    const { process, api } = await startReplica();
    const product = await createTestProduct(api, { initialStock: 1_000_000 });
    const acknowledged: string[] = [];
    let attempted = 0;
    let killed: Promise<string> | undefined;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        for (let i = 0; i < 200 && !killed; i++) {
          const orderId = randomUUID();
          attempted += 1;
          const outcome = await outcomeOf(api.reserveStock({ orderId, items: [{ productId: product.id, quantity: 1 }] }));
          if (outcome === 'OK') acknowledged.push(orderId);
          if (acknowledged.length >= 300 && !killed) killed = process.stop('SIGKILL');
        }
      }),
    );
    expect(await killed, 'the process was killed under load').to.equal('SIGKILL');
    expect(attempted, 'calls were still in flight when it died').to.be.above(acknowledged.length);

    const reservations: { order_id: string; items: number; quantity: number; movements: number }[] = (
      await database.db.raw(`
        select r.order_id,
               (select count(*)::int from reservation_items i where i.order_id = r.order_id) as items,
               (select coalesce(sum(i.quantity), 0)::int from reservation_items i where i.order_id = r.order_id) as quantity,
               (select count(*)::int from stock_movements m where m.reference = r.order_id::text and m.kind = 'RESERVE') as movements
          from reservations r`)
    ).rows;
    const stored = new Set(reservations.map((r) => r.order_id));
    expect(
      acknowledged.filter((id) => !stored.has(id)),
      'acknowledged but missing',
    ).to.deep.equal([]);
    expect(
      reservations.filter((r) => r.items !== 1 || r.quantity !== 1 || r.movements !== 1),
      'half-written',
    ).to.deep.equal([]);
    const events: { payload: Buffer }[] = await database
      .db('outbox')
      .where({ subject: 'inventory.reservation.reserved' })
      .select('payload');
    const evented = events.map((e) => ReservationReserved.decode(e.payload).reservation!.orderId).sort();
    expect(evented, 'one reserved event per stored reservation').to.deep.equal([...stored].sort());
    const { rows } = await database.db.raw('select count(distinct xmin::text)::int as statements from reservations');
    expect(rows[0].statements, 'reservations were coalesced').to.be.below(stored.size);
    expect(await findInvariantViolations(database.db)).to.deep.equal([]);
  });
});
