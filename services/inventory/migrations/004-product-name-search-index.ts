import type { Knex } from 'knex';
import type { Migration } from '#libs/db/migrate.js';

export const PRODUCT_NAME_SEARCH_INDEX = 'products_name_trgm_idx';

/**
 * ListProducts' name_contains is `name ILIKE '%text%'`: no b-tree serves a
 * leading wildcard, so without this it is a sequential scan (about 0.5 s at
 * 1M products). A pg_trgm GIN index answers it from the trigrams of the text.
 *
 * Built CONCURRENTLY, so product writes go on while it builds; that cannot run
 * in a transaction, hence `transactional: false` (every statement commits on
 * its own, so each one is written to be safe to repeat). The build only takes
 * SHARE UPDATE EXCLUSIVE, which no read or write waits for, so no lock_timeout:
 * it waits for older transactions to end rather than making anyone wait.
 */
export const productNameSearchIndex: Migration = {
  name: '004-product-name-search-index',
  transactional: false,
  async up(db: Knex) {
    await db.raw('create extension if not exists pg_trgm');
    // An interrupted concurrent build (crash, cancel, deadlock) leaves an INVALID
    // index behind. IF NOT EXISTS would then keep it forever: it is maintained on
    // every write but never used. Drop it so the build below starts over.
    if (await isInvalidIndex(db, PRODUCT_NAME_SEARCH_INDEX)) {
      await db.raw(`drop index concurrently if exists ${PRODUCT_NAME_SEARCH_INDEX}`);
    }
    await db.raw(`create index concurrently if not exists ${PRODUCT_NAME_SEARCH_INDEX} on products using gin (name gin_trgm_ops)`);
    // ILIKE's row estimate comes from the column's histogram. With the default
    // 100 entries every phrase rarer than 1 % looks equally rare, and the planner
    // fetches thousands of trigram matches to sort them instead of walking the
    // primary key. A finer histogram tells the two apart; the ANALYZE (name only,
    // no lock that DML waits for) makes it take effect now, not at the next
    // autovacuum.
    await db.raw('alter table products alter column name set statistics 1000');
    await db.raw('analyze products (name)');
  },
  async down(db: Knex) {
    await db.raw(`drop index concurrently if exists ${PRODUCT_NAME_SEARCH_INDEX}`);
    await db.raw('alter table products alter column name set statistics -1');
    // The extension stays: it may have been there before, and other objects may use it.
  },
};

export async function isInvalidIndex(db: Knex, name: string): Promise<boolean> {
  const { rows } = await db.raw<{ rows: { valid: boolean }[] }>(
    `select i.indisvalid as valid
       from pg_index i join pg_class c on c.oid = i.indexrelid
      where c.relname = ? and c.relnamespace = current_schema()::regnamespace`,
    [name],
  );
  return rows.length > 0 && !rows[0]!.valid;
}
