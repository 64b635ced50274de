import type { Knex } from 'knex';

/** The one product whose name the search looks for; no other name contains it. */
export const RARE_NAME = 'Zanzibar saffron threads';
export const RARE_QUERY = 'zanzibar';

/** Statements that put back what was set aside for the load, in order. */
type Restore = string[];

/**
 * Sets aside, for the load, every index and constraint that would be
 * maintained row by row: the foreign keys that reference products (stock
 * included), products' own primary key and unique sku, and its other indexes
 * (whatever the migrations made, name search included). Building them once
 * after the load, from sorted data, is several times faster. Read from the
 * catalog, so a new migration's index is rebuilt too.
 */
async function setAsideConstraints(db: Knex): Promise<Restore> {
  const { rows: references } = await db.raw<{ rows: { tbl: string; name: string; def: string }[] }>(
    `select conrelid::regclass::text as tbl, conname as name, pg_get_constraintdef(oid) as def
       from pg_constraint where confrelid = 'products'::regclass and contype = 'f'`,
  );
  const { rows: own } = await db.raw<{ rows: { name: string; def: string }[] }>(
    `select conname as name, pg_get_constraintdef(oid) as def
       from pg_constraint where conrelid = 'products'::regclass and contype in ('p', 'u')`,
  );
  const { rows: indexes } = await db.raw<{ rows: { name: string; def: string }[] }>(
    `select indexname as name, indexdef as def from pg_indexes
      where schemaname = current_schema() and tablename = 'products'
        and indexname not in (select conname from pg_constraint where conrelid = 'products'::regclass)`,
  );
  for (const fk of references) await db.raw('alter table ?? drop constraint ??', [fk.tbl, fk.name]);
  for (const constraint of own) await db.raw('alter table products drop constraint ??', [constraint.name]);
  for (const index of indexes) await db.raw('drop index ??', [index.name]);
  const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;
  return [
    ...own.map((c) => `alter table products add constraint ${ident(c.name)} ${c.def}`),
    ...indexes.map((index) => index.def),
    ...references.map((fk) => `alter table ${fk.tbl} add constraint ${ident(fk.name)} ${fk.def}`),
  ];
}

/** Products first..last and their stock rows; ids are UUIDv7-shaped and ascending, as the service makes them. */
async function loadChunk(db: Knex, first: number, last: number, rareAt: number): Promise<void> {
  // One UUIDv7 timestamp for all, the sequence number in the random bits: ascending, and cheap to compute.
  const id = `('018bcfe5-6800-7000-8000-' || lpad(to_hex(i), 12, '0'))::uuid`;
  await db.transaction(async (trx) => {
    await trx.raw('set local synchronous_commit = off');
    await trx.raw(
      `insert into products (id, sku, name, description, price_minor, currency_code, low_stock_threshold, version, created_at, updated_at)
       select ${id}, 'BULK-' || lpad(i::text, 8, '0'), case when i = ? then ? else 'Bulk product ' || i end,
              '', 100 + i % 900, 'EUR', 0, 1, now(), now()
         from generate_series(?::int, ?::int) as i`,
      [rareAt, RARE_NAME, first, last],
    );
    await trx.raw(
      `insert into stock_levels (product_id, available, reserved, sold, updated_at)
       select ${id}, 10, 0, 0, now() from generate_series(?::int, ?::int) as i`,
      [first, last],
    );
  });
}

/**
 * Loads `count` products and their stock with SQL (`insert … select
 * generate_series`) in two parallel halves, indexes and constraints set aside
 * and rebuilt after, then ANALYZE so plans are those of a settled table.
 */
export async function bulkLoadCatalog(db: Knex, count: number): Promise<void> {
  const rareAt = Math.ceil(count * 0.77);
  const restore = await setAsideConstraints(db);
  const half = Math.floor(count / 2);
  await Promise.all([loadChunk(db, 1, half, rareAt), loadChunk(db, half + 1, count, rareAt)]);
  await db.transaction(async (trx) => {
    await trx.raw(`set local maintenance_work_mem = '256MB'`);
    for (const statement of restore) await trx.raw(statement);
  });
  await db.raw('analyze products, stock_levels');
}
