import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from '../../../libs/db/test-database.js';
import { migrateDownAll, migrateToLatest } from '../../../libs/db/migrate.js';
import { outcomeOf } from '../../../libs/testing/grpc-errors.js';
import { inventoryMigrations } from '../migrations/index.js';
import { createTestProduct, startTestInventory, type TestInventory } from './harness.js';

describe('inventory migrations', function () {
  this.timeout(60_000);

  it('add categories while product reads and writes run, without failing a request', async () => {
    const database: TestDatabase = await createTestDatabase('inventory_migration', inventoryMigrations.slice(0, 1));
    const inv: TestInventory = await startTestInventory({ database });
    try {
      const seed = await createTestProduct(inv.api, { initialStock: 1000 });
      const outcomes: string[] = [];
      let migrating = true;
      // Four clients doing what a shop does all day, until the migration finished.
      const traffic = Array.from({ length: 4 }, async (_, worker) => {
        for (let i = 0; migrating && i < 2_000; i++) {
          const step = (i + worker) % 4;
          if (step === 0) outcomes.push(await outcomeOf(createTestProduct(inv.api, { initialStock: 5 })));
          else if (step === 1) outcomes.push(await outcomeOf(inv.api.getProduct({ id: seed.id })));
          else if (step === 2) outcomes.push(await outcomeOf(inv.api.listProducts({ pageSize: 20 })));
          else
            outcomes.push(await outcomeOf(inv.api.reserveStock({ orderId: randomUUID(), items: [{ productId: seed.id, quantity: 1 }] })));
        }
      });
      await new Promise((r) => setTimeout(r, 200));
      const applied = await migrateToLatest(database.db, inventoryMigrations);
      await new Promise((r) => setTimeout(r, 200));
      migrating = false;
      await Promise.all(traffic);

      expect(applied).to.deep.equal(inventoryMigrations.slice(1).map((m) => m.name));
      expect(outcomes.length).to.be.greaterThan(20);
      expect(outcomes.filter((o) => o !== 'OK')).to.deep.equal([]);

      // The new schema is live for the same running service.
      const { category } = await inv.api.createCategory({ category: { name: 'Bakery' } });
      const bread = await createTestProduct(inv.api, { categoryIds: [category!.id] });
      expect((await inv.api.getProduct({ id: bread.id })).product!.categoryIds).to.deep.equal([category!.id]);
    } finally {
      await inv.stop();
    }
  });

  it('roll back to an empty schema and forward again', async () => {
    const database = await createTestDatabase('inventory_migration', inventoryMigrations);
    try {
      await migrateDownAll(database.db, inventoryMigrations);
      const tables = await database
        .db('pg_tables')
        .where({ schemaname: 'public' })
        .whereNotIn('tablename', ['knex_migrations', 'knex_migrations_lock']);
      expect(tables).to.deep.equal([]);
      expect(await migrateToLatest(database.db, inventoryMigrations)).to.have.length(inventoryMigrations.length);
    } finally {
      await database.drop();
    }
  });
});
