import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { migrateDownAll, migrateToLatest } from '#libs/db/migrate.js';
import { createTestDatabase } from '#test/support/test-database.js';
import { findCart } from '../data/carts.js';
import { findOrder } from '../data/orders.js';
import { cartsAndOrders } from '../migrations/001-carts-and-orders.js';
import { outboxTraceContext } from '../migrations/002-outbox-trace-context.js';
import { orderMigrations } from '../migrations/index.js';

describe('order migrations', function () {
  this.timeout(60_000);

  it('roll back to an empty schema and forward again', async () => {
    const database = await createTestDatabase('order_migration', orderMigrations);
    try {
      await migrateDownAll(database.db, orderMigrations);
      const tables = await database
        .db('pg_tables')
        .where({ schemaname: 'public' })
        .whereNotIn('tablename', ['knex_migrations', 'knex_migrations_lock']);
      expect(tables).to.deep.equal([]);
      expect(await migrateToLatest(database.db, orderMigrations)).to.have.length(orderMigrations.length);
    } finally {
      await database.drop();
    }
  });

  it('003 (fulfilment, allocations) applies while the previous release places orders and fills carts, failing none of its statements; the new code reads its rows as orders and carts without a fulfilment', async () => {
    const database = await createTestDatabase('order_migration_003', [cartsAndOrders, outboxTraceContext]);
    const { db } = database;
    const placed: string[] = [];
    const failures: string[] = [];
    let migrated = false;
    /** The previous release's writes: an order claimed with its item (no fulfilment column named), a cart line. */
    const previousRelease = async () => {
      // Bounded: at most 500 orders, and 20 once the migration is in.
      let afterMigration = 0;
      for (let i = 0; i < 500 && afterMigration < 20; i += 1) {
        if (migrated) afterMigration += 1;
        const id = randomUUID();
        const customerId = randomUUID();
        const now = new Date();
        try {
          await db.transaction(async (trx) => {
            await trx('orders').insert({
              id,
              customer_id: customerId,
              status: 'PENDING',
              idempotency_key: `k-${i}`,
              request_hash: 'h',
              payment_token: 'tok_ok',
              next_attempt_at: now,
              created_at: now,
              updated_at: now,
            });
            await trx('order_items').insert({ order_id: id, product_id: randomUUID(), quantity: 1 });
            await trx('carts').insert({ customer_id: customerId, updated_at: now });
            await trx('cart_items').insert({ customer_id: customerId, product_id: randomUUID(), quantity: 2 });
          });
          placed.push(id);
        } catch (error) {
          failures.push((error as Error).message);
        }
      }
    };
    try {
      const traffic = previousRelease();
      for (let wait = 0; wait < 2000 && placed.length < 10 && failures.length === 0; wait += 1) await new Promise((r) => setTimeout(r, 5));
      await migrateToLatest(db, orderMigrations);
      migrated = true;
      await traffic;
      expect(failures).to.deep.equal([]);
      expect(placed.length).to.be.greaterThan(10);
      const columns = await db('information_schema.columns')
        .whereIn('table_name', ['orders', 'carts'])
        .whereIn('column_name', ['fulfilment', 'allocations'])
        .select('table_name', 'column_name', 'is_nullable', 'column_default', 'data_type');
      expect(columns).to.have.deep.members([
        { table_name: 'orders', column_name: 'fulfilment', is_nullable: 'YES', column_default: null, data_type: 'jsonb' },
        { table_name: 'orders', column_name: 'allocations', is_nullable: 'YES', column_default: null, data_type: 'jsonb' },
        { table_name: 'carts', column_name: 'fulfilment', is_nullable: 'YES', column_default: null, data_type: 'jsonb' },
      ]);
      const order = (await findOrder(db, placed.at(-1)!))!;
      expect(order.fulfilment).to.equal(undefined);
      expect(order.allocations).to.equal(undefined);
      expect((await findCart(db, order.customerId)).fulfilment).to.equal(undefined);
    } finally {
      migrated = true;
      await database.drop();
    }
  });
});
