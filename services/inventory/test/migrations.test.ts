import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import type { Knex } from 'knex';
import { createTestDatabase, type TestDatabase } from '#test/support/test-database.js';
import { migrateDownAll, migrateToLatest, type Migration } from '#libs/db/migrate.js';
import { eventually } from '#test/support/eventually.js';
import { delay } from '#test/support/free-port.js';
import { outcomeOf, tally } from '#test/support/grpc-errors.js';
import { categories } from '../migrations/002-categories.js';
import { reserveStockBatch } from '../migrations/005-reserve-stock-batch.js';
import { reserveStockBatchIndexConditions } from '../migrations/006-reserve-stock-batch-index-conditions.js';
import { outboxTraceContext } from '../migrations/007-outbox-trace-context.js';
import { locations } from '../migrations/008-locations.js';
import { stockKeysPerLocation } from '../migrations/009-stock-keys-per-location.js';
import { inventoryMigrations } from '../migrations/index.js';
import { createTestProduct, startTestInventory, type TestInventory } from './harness.js';

interface Call {
  kind: string;
  outcome: string;
  startedAt: number;
  endedAt: number;
}

/** Wraps a migration so that its transaction stays open after its statements, holding their locks, until release(). */
function heldOpen(migration: Migration) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let holdingAs!: (pid: number) => void;
  const holding = new Promise<number>((resolve) => (holdingAs = resolve));
  const wrapped: Migration = {
    ...migration,
    async up(db: Knex) {
      await migration.up(db);
      const { rows } = (await db.raw('select pg_backend_pid() as pid')) as { rows: { pid: number }[] };
      holdingAs(rows[0]!.pid);
      await released;
    },
  };
  return { migration: wrapped, holding, release };
}

/** The lock modes backend `pid` holds (granted) on the products table, read from pg_locks. */
async function productsLocksOf(database: TestDatabase, pid: number): Promise<string[]> {
  return database.db('pg_locks').where({ pid, granted: true }).whereRaw(`relation = 'products'::regclass`).pluck('mode');
}

describe('inventory migrations', function () {
  this.timeout(60_000);

  it('add categories while product reads and writes run, without failing a request', async () => {
    // The code of this release on the schema before categories (with the reservation function, outbox column and
    // locations it needs; 006 too, or applying it later would put back its older text of the function).
    const before = [
      inventoryMigrations[0]!,
      reserveStockBatch,
      reserveStockBatchIndexConditions,
      outboxTraceContext,
      locations,
      stockKeysPerLocation,
    ];
    const database: TestDatabase = await createTestDatabase('inventory_migration', before);
    const inv: TestInventory = await startTestInventory({ database });
    // The categories migration, kept open after its statements: its locks stay granted until the test lets it commit.
    const held = heldOpen(categories);
    try {
      const seed = await createTestProduct(inv.api, { initialStock: 100_000 });
      const calls: Call[] = [];
      let migrating = true;
      // Four clients doing what a shop does all day, one kind of call each, until the migration finished.
      const kinds: Record<string, () => Promise<unknown>> = {
        createProduct: () => createTestProduct(inv.api, { initialStock: 5 }),
        getProduct: () => inv.api.getProduct({ id: seed.id }),
        listProducts: () => inv.api.listProducts({ pageSize: 20 }),
        reserveStock: () => inv.api.reserveStock({ orderId: randomUUID(), items: [{ productId: seed.id, quantity: 1 }] }),
      };
      const traffic = Object.entries(kinds).map(async ([kind, call]) => {
        for (let i = 0; migrating && i < 2_000; i++) {
          const startedAt = performance.now();
          const outcome = await outcomeOf(call());
          calls.push({ kind, outcome, startedAt, endedAt: performance.now() });
        }
      });
      await eventually('traffic under way', () => calls.length >= 8 || `${calls.length} calls`);

      const migrations = inventoryMigrations.map((m) => (m === categories ? held.migration : m));
      const applying = migrateToLatest(database.db, migrations);
      const pid = await Promise.race([
        held.holding,
        applying.then(() => Promise.reject(new Error('the migration finished without being held'))),
        delay(10_000).then(() => Promise.reject(new Error('the categories migration did not reach its hold within 10 s'))),
      ]);
      expect(await productsLocksOf(database, pid), 'locks the migration holds on products').to.include('ShareRowExclusiveLock');
      const lockSeen = performance.now();
      const inWindow = () => calls.filter((c) => c.startedAt >= lockSeen && c.endedAt <= performance.now());
      await eventually('20 calls to complete while the migration holds its lock', () => inWindow().length >= 20 || `${inWindow().length}`, {
        timeoutMs: 20_000,
      });
      const lockStillSeenFrom = performance.now();
      expect(await productsLocksOf(database, pid), 'locks still held on products').to.include('ShareRowExclusiveLock');
      held.release();
      const applied = await applying;
      const migratedAt = performance.now();
      await eventually('8 calls after the migration', () => calls.filter((c) => c.startedAt > migratedAt).length >= 8 || 'fewer');
      migrating = false;
      await Promise.all(traffic);

      expect(applied).to.deep.equal(inventoryMigrations.filter((m) => !before.includes(m)).map((m) => m.name));
      expect(tally(calls.filter((c) => c.outcome !== 'OK').map((c) => `${c.kind} ${c.outcome}`)), 'failed calls').to.deep.equal({});
      // Reads and reservations ran while the lock was held; product writes waited for it and then succeeded.
      const during = calls.filter((c) => c.startedAt >= lockSeen && c.endedAt <= lockStillSeenFrom);
      console.log(
        `      ${calls.length} calls; ${during.length} completed in the ${Math.round(lockStillSeenFrom - lockSeen)} ms the migration held its lock`,
      );
      expect(new Set(during.map((c) => c.kind))).to.deep.equal(new Set(['getProduct', 'listProducts', 'reserveStock']));
      expect(during.length).to.be.at.least(20);
      const writes = calls.filter((c) => c.kind === 'createProduct');
      const writesDone = writes.filter((c) => c.startedAt >= lockSeen && c.endedAt <= lockStillSeenFrom);
      expect(writesDone, 'CreateProduct calls that completed while the lock was held').to.deep.equal([]);
      const writesWaiting = writes.filter((c) => c.startedAt <= lockStillSeenFrom && c.endedAt > lockStillSeenFrom);
      expect(writesWaiting, 'CreateProduct calls waiting on the lock at its end').to.have.length(1);

      // The new schema is live for the same running service.
      const { category } = await inv.api.createCategory({ category: { name: 'Bakery' } });
      const bread = await createTestProduct(inv.api, { categoryIds: [category!.id] });
      expect((await inv.api.getProduct({ id: bread.id })).product!.categoryIds).to.deep.equal([category!.id]);
    } finally {
      held.release();
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

  describe('reserve_stock_batch, whose source is data/sql/reserve_stock_batch.sql', () => {
    /** The function as the database holds it: its header, and a checksum of its body. */
    async function reserveStockBatchIn(db: Knex): Promise<{ header: string; body: string } | undefined> {
      const { rows } = (await db.raw(
        `select format('%s(%s) returns %s language %s', p.proname, pg_get_function_arguments(p.oid), pg_get_function_result(p.oid), l.lanname) as header,
                p.prosrc as body
           from pg_proc p join pg_language l on l.oid = p.prolang where p.proname = 'reserve_stock_batch'`,
      )) as { rows: { header: string; body: string }[] };
      return rows[0];
    }
    const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
    const HEADER = 'reserve_stock_batch(batch jsonb) returns jsonb language plpgsql';

    it('is, after migrating from zero, the function in data/sql/reserve_stock_batch.sql', async () => {
      const source = readFileSync(new URL('../data/sql/reserve_stock_batch.sql', import.meta.url), 'utf8');
      const [, body] =
        /^create or replace function reserve_stock_batch\(batch jsonb\) returns jsonb\nlanguage plpgsql as \$\$(.*)\$\$;\n$/ms.exec(
          source,
        ) ?? [];
      expect(body, 'the file holds one create or replace of the function after its header comment').to.be.a('string');
      const database = await createTestDatabase('inventory_migration', inventoryMigrations);
      try {
        expect(await reserveStockBatchIn(database.db)).to.deep.equal({ header: HEADER, body });
      } finally {
        await database.drop();
      }
    });

    it('is the text each migration shipped, whatever data/sql/reserve_stock_batch.sql says today', async () => {
      // sha256 of the body each migration leaves, computed from the tree before the function moved
      // to data/sql/ (432adfe). A shipped migration keeps shipping its text: never update these.
      // A new version freezes the current file as reserve_stock_batch.vN.sql for the migrations
      // that applied it (migrations/reserve-stock-batch-texts.ts) and adds a line here for its migration.
      const withTraceContext = '538bca8d5fe60e6cb60cd9f3042fed540fa9644fb7e71b8efbab1521d83f4dcd';
      const beforeTraceContext = '041112e3f6190a51b16d694f688c1acc43dec72a7c37c0ab5b55f81dfbe73c58';
      const perLocation = '5250cdb9bab637d6bce5cd208186da79b2b84d37916b1f9682a6ac7b5dbc010f';
      const shipped: Record<string, string> = {
        '005-reserve-stock-batch': withTraceContext,
        '006-reserve-stock-batch-index-conditions': withTraceContext,
        '007-outbox-trace-context': withTraceContext,
        '007-outbox-trace-context down': beforeTraceContext,
        '008-locations': perLocation,
      };
      const database = await createTestDatabase('inventory_migration');
      // What each step that (re)creates the function leaves: a step that sends no such statement is skipped.
      let applied = false;
      database.db.on('query', (query: { sql: string }) => {
        applied ||= /create or replace function reserve_stock_batch\b/.test(query.sql);
      });
      const left: Record<string, string> = {};
      const step = async (name: string, db: Knex, run: () => Promise<unknown>) => {
        applied = false;
        await run();
        if (!applied) return;
        const fn = await reserveStockBatchIn(db);
        expect(fn?.header, name).to.equal(HEADER);
        left[name] = sha256(fn!.body);
      };
      try {
        for (const [index, migration] of inventoryMigrations.entries()) {
          await step(migration.name, database.db, () => migrateToLatest(database.db, inventoryMigrations.slice(0, index + 1)));
          if (migration !== outboxTraceContext) continue;
          const trx = await database.db.transaction();
          try {
            await step(`${migration.name} down`, trx, () => outboxTraceContext.down(trx));
          } finally {
            await trx.rollback();
          }
        }
        expect(left).to.deep.equal(shipped);
      } finally {
        await database.drop();
      }
    });
  });
});
