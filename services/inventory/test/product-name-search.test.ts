import { expect } from 'chai';
import type { Knex } from 'knex';
import { migrateToLatest } from '#libs/db/migrate.js';
import { createTestDatabase, type TestDatabase } from '#test/support/test-database.js';
import type { ListProductsRequest } from '#libs/contracts/larder/inventory/v1/inventory_service.js';
import { inventoryMigrations } from '../migrations/index.js';
import { PRODUCT_NAME_SEARCH_INDEX, productNameSearchIndex } from '../migrations/004-product-name-search-index.js';
import { createTestProduct, startTestInventory, type InventoryApi, type TestInventory } from './harness.js';

/** The name index as the catalog sees it: valid, GIN, on products.name with trigram ops. */
async function nameIndex(db: Knex): Promise<{ valid: boolean; definition: string } | undefined> {
  const { rows } = await db.raw<{ rows: { valid: boolean; definition: string }[] }>(
    `select i.indisvalid as valid, pg_get_indexdef(i.indexrelid) as definition
       from pg_index i join pg_class c on c.oid = i.indexrelid where c.relname = ?`,
    [PRODUCT_NAME_SEARCH_INDEX],
  );
  return rows[0];
}

const GIN_TRGM_ON_NAME = /USING gin \(name gin_trgm_ops\)/;

describe('product name search (pg_trgm)', function () {
  this.timeout(60_000);

  describe('the migration', () => {
    let database: TestDatabase;
    afterEach(async () => database?.drop());

    it('is its own non-transactional migration after the category index, and builds a valid trigram index the planner can use', async () => {
      const names = inventoryMigrations.map((m) => m.name);
      expect(names.indexOf(productNameSearchIndex.name)).to.equal(names.indexOf('003-category-lookup-index') + 1);
      expect(productNameSearchIndex.transactional).to.equal(false);

      database = await createTestDatabase('inventory_trgm', inventoryMigrations);
      const { db } = database;
      const extension = await db('pg_extension').where({ extname: 'pg_trgm' }).first();
      expect(extension, 'pg_trgm installed').to.not.equal(undefined);
      const index = await nameIndex(db);
      expect(index?.valid).to.equal(true);
      expect(index?.definition).to.match(GIN_TRGM_ON_NAME);

      // With sequential scans priced out, a leading-wildcard ILIKE can only avoid
      // one through this index: proof that it serves name_contains.
      const plan = await db.transaction(async (trx) => {
        await trx.raw('set local enable_seqscan = off');
        const { rows } = await trx.raw<{ rows: { 'QUERY PLAN': string }[] }>(
          "explain select id from products where name ilike '%membrillo%' and deleted_at is null",
        );
        return rows.map((r) => r['QUERY PLAN']).join('\n');
      });
      expect(plan).to.include(PRODUCT_NAME_SEARCH_INDEX);
    });

    it('replaces an invalid index left by an interrupted concurrent build, and is safe to run again', async () => {
      database = await createTestDatabase('inventory_trgm', inventoryMigrations.slice(0, 3));
      const { db } = database;
      // A concurrent build that fails leaves its index behind, INVALID. A unique
      // build over duplicate names fails for certain, under the index's name.
      const now = new Date();
      await db('products').insert(
        ['a', 'b'].map((suffix) => ({
          id: `0190aaaa-0000-7000-8000-00000000000${suffix}`,
          sku: `DUP-${suffix}`,
          name: 'Same name',
          price_minor: 1,
          currency_code: 'EUR',
          created_at: now,
          updated_at: now,
        })),
      );
      await db.raw(`create unique index concurrently ${PRODUCT_NAME_SEARCH_INDEX} on products (name)`).then(
        () => expect.fail('the unique build over duplicates should fail'),
        (err: { code?: string }) => expect(err.code).to.equal('23505'),
      );
      expect((await nameIndex(db))?.valid).to.equal(false);

      await migrateToLatest(db, inventoryMigrations);
      const rebuilt = await nameIndex(db);
      expect(rebuilt?.valid).to.equal(true);
      expect(rebuilt?.definition).to.match(GIN_TRGM_ON_NAME);

      // Every statement is idempotent: running it over a finished build changes nothing.
      await productNameSearchIndex.up(db);
      expect(await nameIndex(db)).to.deep.equal(rebuilt);
    });
  });

  describe('ListProducts name_contains', () => {
    let inv: TestInventory;
    let api: InventoryApi;
    const ids: Record<string, string> = {};
    const FILLERS = 2_000;

    before(async () => {
      inv = await startTestInventory();
      api = inv.api;
      const named: [key: string, name: string, stock: number][] = [
        ['whole', 'Whole milk 1 L', 11],
        ['oat', 'Oat drink', 12],
        ['choc', 'MILK chocolate', 13],
        ['butter', 'Buttermilk', 14],
        ['quince', 'Quince paste Membrillo', 15],
        ['juice', '100% juice', 16],
        ['rice', '1000 g rice', 17],
        ['snake', 'snake_case bar', 18],
        ['cream', 'Whole cream', 19],
        ['deleted', 'Milk, deleted', 20],
      ];
      for (const [key, name, initialStock] of named) ids[key] = (await createTestProduct(api, { name, initialStock })).id;
      await api.deleteProduct({ id: ids.deleted! });
      // Many products that match none of the searches, so a rare name is found among them.
      await inv.db.raw(
        `with p as (
           insert into products (id, sku, name, price_minor, currency_code, created_at, updated_at)
           select gen_random_uuid(), 'FILL-' || i, 'Filler item ' || i, 100, 'EUR', now(), now()
             from generate_series(1, ?) as i
           returning id, sku)
         insert into stock_levels (product_id, available, updated_at)
         select id, substr(sku, 6)::int, now() from p`,
        [FILLERS],
      );
    });

    after(async () => inv?.stop());

    /** Every page of a search, as product ids in page order; each page asserted sorted and bounded. */
    async function search(request: Partial<ListProductsRequest>, pageSize = 100): Promise<string[]> {
      const found: string[] = [];
      let pageToken = '';
      for (let page = 0; page < 100; page++) {
        const response = await api.listProducts({ ...request, pageSize, pageToken });
        expect(response.products.length).to.be.at.most(pageSize);
        found.push(...response.products.map((p) => p.id));
        pageToken = response.nextPageToken;
        if (!pageToken) return found;
      }
      throw new Error('search did not finish within 100 pages');
    }

    const sorted = (values: string[]) => [...values].sort();

    it('finds a name by any part of it, whatever the case', async () => {
      expect(await search({ nameContains: 'milk' })).to.deep.equal(sorted([ids.whole!, ids.choc!, ids.butter!]));
      expect(await search({ nameContains: 'MiLk' })).to.deep.equal(sorted([ids.whole!, ids.choc!, ids.butter!]));
      expect(await search({ nameContains: 'BUTTERMILK' })).to.deep.equal([ids.butter]);
    });

    it('finds a rare name among thousands, by a word, a fragment or two words', async () => {
      expect(await search({ nameContains: 'membrillo' })).to.deep.equal([ids.quince]);
      expect(await search({ nameContains: 'EMBRI' })).to.deep.equal([ids.quince]);
      expect(await search({ nameContains: 'quince PASTE' })).to.deep.equal([ids.quince]);
      expect(await search({ nameContains: 'paste quince' })).to.deep.equal([]);
      expect(await search({ nameContains: 'no such product' })).to.deep.equal([]);
    });

    it('finds names by texts shorter than a trigram', async () => {
      expect(await search({ nameContains: 'oa' })).to.deep.equal([ids.oat]);
      expect(await search({ nameContains: 'Q' })).to.deep.equal([ids.quince]);
    });

    it('takes % and _ literally', async () => {
      expect(await search({ nameContains: '100%' })).to.deep.equal([ids.juice]);
      expect(await search({ nameContains: 'e_c' })).to.deep.equal([ids.snake]);
    });

    it('hides deleted products unless asked for them', async () => {
      expect(await search({ nameContains: 'deleted' })).to.deep.equal([]);
      expect(await search({ nameContains: 'deleted', showDeleted: true })).to.deep.equal([ids.deleted]);
    });

    it('pages through matches in id order, one at a time, none skipped or repeated', async () => {
      expect(await search({ nameContains: 'milk' }, 1)).to.deep.equal(sorted([ids.whole!, ids.choc!, ids.butter!]));
    });

    it('pages through every product with its own stock, deep pages included', async () => {
      const seen = new Map<string, number>();
      let pageToken = '';
      for (let page = 0; page < 100; page++) {
        const response = await api.listProducts({ pageSize: 300, pageToken });
        for (const product of response.products) {
          expect(seen.has(product.id), `product ${product.id} listed twice`).to.equal(false);
          seen.set(product.id, product.stockLevel!.available);
          if (product.sku.startsWith('FILL-')) expect(product.stockLevel!.available).to.equal(Number(product.sku.slice(5)));
        }
        pageToken = response.nextPageToken;
        if (!pageToken) break;
      }
      expect(pageToken, 'listing ended within 100 pages').to.equal('');
      expect(seen.size).to.equal(FILLERS + 9);
      expect(seen.get(ids.rice!)).to.equal(17);
      expect(seen.get(ids.quince!)).to.equal(15);
    });
  });
});
