import type { Knex } from 'knex';
import { setLockTimeout, type Migration } from '#libs/db/migrate.js';
import { isInvalidIndex } from './004-product-name-search-index.js';

/** The keys that hold stock and reservation items per location once the old ones are gone. */
const NEW_KEYS = [
  { table: 'stock_levels', index: 'stock_levels_product_location_key', columns: 'product_id, location_id', old: 'product_id' },
  {
    table: 'reservation_items',
    index: 'reservation_items_order_product_location_key',
    columns: 'order_id, product_id, location_id',
    old: 'order_id, product_id',
  },
] as const;

/** 008's NOT VALID constraints: checked here against the rows that existed before them. */
const TO_VALIDATE = [
  ['stock_levels', 'stock_levels_location_id_foreign'],
  ['reservation_items', 'reservation_items_location_id_foreign'],
  ['stock_movements', 'stock_movements_location_id_foreign'],
  ['stock_adjustments', 'stock_adjustments_location_id_foreign'],
  ['stock_levels', 'stock_levels_settings_non_negative'],
] as const;

/**
 * Stock in many places, step 2 of 2 (contract; docs/design.md §8): one stock row
 * per (product, location) and one reservation item per (order, product,
 * location), instead of one per product and per (order, product).
 *
 * The new unique indexes are built CONCURRENTLY (writes go on), so this
 * migration is not transactional and each statement is safe to repeat. The
 * constraints 008 added NOT VALID are validated (SHARE UPDATE EXCLUSIVE: reads
 * and writes go on). Then each primary key is swapped in one short transaction:
 * drop the old key, promote the new index (ACCESS EXCLUSIVE for a catalog
 * change only, bounded by lock_timeout).
 */
export const stockKeysPerLocation: Migration = {
  name: '009-stock-keys-per-location',
  transactional: false,
  async up(db: Knex) {
    for (const key of NEW_KEYS) {
      if (await isInvalidIndex(db, key.index)) await db.raw(`drop index concurrently if exists ${key.index}`);
      if (!(await isPrimaryKeyIndex(db, key.table, key.index))) {
        await db.raw(`create unique index concurrently if not exists ${key.index} on ${key.table} (${key.columns})`);
      }
    }
    for (const [table, constraint] of TO_VALIDATE) await db.raw(`alter table ${table} validate constraint ${constraint}`);
    for (const key of NEW_KEYS) {
      await db.transaction(async (trx) => {
        await setLockTimeout(trx);
        if (await isPrimaryKeyIndex(trx, key.table, key.index)) return;
        await trx.raw(`alter table ${key.table} drop constraint ${key.table}_pkey`);
        await trx.raw(`alter table ${key.table} add constraint ${key.table}_pkey primary key using index ${key.index}`);
      });
    }
    await db.raw('create index concurrently if not exists stock_movements_location_idx on stock_movements (location_id)');
  },
  async down(db: Knex) {
    await db.raw('drop index concurrently if exists stock_movements_location_idx');
    for (const key of NEW_KEYS) {
      await db.transaction(async (trx) => {
        await trx.raw(`alter table ${key.table} drop constraint if exists ${key.table}_pkey`);
        await trx.raw(`alter table ${key.table} add constraint ${key.table}_pkey primary key (${key.old})`);
      });
    }
  },
};

/** Whether `index` is already the primary key of `table` (a rerun after the swap). */
async function isPrimaryKeyIndex(db: Knex, table: string, index: string): Promise<boolean> {
  const { rows } = await db.raw<{ rows: unknown[] }>(
    `select 1 from pg_constraint c join pg_class i on i.oid = c.conindid
      where c.conrelid = ?::regclass and c.contype = 'p' and i.relname = ?`,
    [table, index],
  );
  return rows.length > 0;
}
