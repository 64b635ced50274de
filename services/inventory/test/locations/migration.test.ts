import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { migrateToLatest } from '#libs/db/migrate.js';
import { eventually } from '#test/support/eventually.js';
import { createTestDatabase } from '#test/support/test-database.js';
import { findInvariantViolations } from '../../data/invariants.js';
import { locations } from '../../migrations/008-locations.js';
import { inventoryMigrations } from '../../migrations/index.js';
import { startTestInventory } from '../harness.js';
import { previousRelease } from './previous-release.js';

interface Call {
  kind: string;
  error?: string;
  startedAt: number;
  endedAt: number;
}

/**
 * Stock moves into the default location under traffic (docs/design.md §8):
 * migrations 008 (expand) and 009 (contract) run while the release before
 * locations keeps creating products, reading them, restocking and reserving;
 * then this release serves the same database.
 */
describe('stock in many places: the migration under traffic', function () {
  this.timeout(120_000);

  it('moves existing stock, reservations and ledger into the default location while the previous release serves', async () => {
    const before = inventoryMigrations.slice(0, inventoryMigrations.indexOf(locations));
    const database = await createTestDatabase('inventory_locations_migration', before);
    try {
      const db = database.db;
      const products = await Promise.all(Array.from({ length: 3 }, () => previousRelease.createProduct(db, 100_000)));
      const calls: Call[] = [];
      let migrating = true;
      const kinds: Record<string, () => Promise<unknown>> = {
        createProduct: () => previousRelease.createProduct(db, 5),
        getProduct: () => previousRelease.getProduct(db, products[0]!),
        reserveStock: async () => {
          if ((await previousRelease.reserve(db, products[calls.length % 3]!, 1)) !== 'ok') throw new Error('short');
        },
        restock: () => previousRelease.restock(db, products[1]!, 1),
      };
      const traffic = Object.entries(kinds).map(async ([kind, call]) => {
        for (let i = 0; migrating && i < 3_000; i++) {
          const startedAt = performance.now();
          const error = await call().then(
            () => undefined,
            (e: Error) => e.message,
          );
          calls.push({ kind, error, startedAt, endedAt: performance.now() });
        }
      });
      await eventually('traffic under way', () => calls.length >= 20 || `${calls.length} calls`);

      const migrationStarted = performance.now();
      const applied = await migrateToLatest(db, inventoryMigrations);
      const migrationEnded = performance.now();
      await eventually('20 calls after the migration', () => calls.filter((c) => c.startedAt > migrationEnded).length >= 20 || 'fewer');
      migrating = false;
      await Promise.all(traffic);

      expect(applied).to.deep.equal(inventoryMigrations.filter((m) => !before.includes(m)).map((m) => m.name));
      expect(calls.filter((c) => c.error).map((c) => `${c.kind}: ${c.error}`)).to.deep.equal([]);
      const during = calls.filter((c) => c.endedAt >= migrationStarted && c.startedAt <= migrationEnded);
      const slowest = Math.max(...during.map((c) => c.endedAt - c.startedAt));
      console.log(
        `      ${calls.length} calls; the migrations took ${Math.round(migrationEnded - migrationStarted)} ms; ` +
          `${during.length} calls overlapped them, the slowest took ${Math.round(slowest)} ms`,
      );
      // Every statement waits at most for the migrations' short locks (lock_timeout 5 s), never for the whole run.
      expect(slowest).to.be.below(5_000);

      // Everything that existed is at the default location, once, and conserved there.
      const { id: home } = await db('locations').first('id').where({ is_default: true });
      for (const table of ['stock_levels', 'reservation_items', 'stock_movements']) {
        expect(await db(table).whereNot({ location_id: home }).count('* as n').first(), table).to.deep.equal({ n: 0 });
      }
      expect(await findInvariantViolations(db)).to.deep.equal([]);

      // This release on the migrated database: the old reservations settle, new ones route to the default location.
      const inv = await startTestInventory({ database: { ...database, drop: async () => undefined } });
      try {
        const oldItem = await db('reservation_items').first('order_id', 'product_id', 'quantity');
        const { reservation: old } = await inv.api.getReservation({ orderId: oldItem.order_id });
        expect(old!.allocations).to.deep.equal([{ productId: oldItem.product_id, locationId: home, quantity: oldItem.quantity }]);
        await inv.api.commitReservation({ orderId: oldItem.order_id });
        const { reservation } = await inv.api.reserveStock({ orderId: randomUUID(), items: [{ productId: products[2]!, quantity: 2 }] });
        expect(reservation!.allocations).to.deep.equal([{ productId: products[2], locationId: home, quantity: 2 }]);
        const { product } = await inv.api.getProduct({ id: products[0]! });
        const stock = await previousRelease.getProduct(db, products[0]!);
        expect(product!.stockLevel).to.include({ available: stock.available, reserved: stock.reserved });
        // The previous release's events are published by this one's relay.
        await eventually('the outbox drained', async () => {
          const left = await db('outbox').whereNull('published_at').count('* as n').first();
          return Number(left?.n) === 0 || `${left?.n} unpublished`;
        });
        expect(await findInvariantViolations(db)).to.deep.equal([]);
      } finally {
        await inv.stop();
      }
    } finally {
      await database.drop();
    }
  });
});
