import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { setLockTimeout, type Migration } from '#libs/db/migrate.js';
import { RESERVE_STOCK_BATCH_V2, RESERVE_STOCK_BATCH_V3 } from './reserve-stock-batch-texts.js';

/** The code of the location the migrations create; calls that name no location use it. */
export const DEFAULT_LOCATION_CODE = 'default';

/** The stock tables that gain a location: their rows so far are all at the default location. */
const LOCATED_TABLES = ['stock_levels', 'reservation_items', 'stock_movements', 'stock_adjustments'] as const;

/**
 * Stock in many places, step 1 of 2 (expand; docs/design.md §8): locations and
 * transfers, and a location on every stock table. Safe while the previous
 * release serves:
 *
 * - `location_id` is added with a constant default, the default location's id:
 *   PostgreSQL stores that once in the catalog instead of rewriting the table, so
 *   every existing row (stock, reservation items, ledger, adjustments) is at the
 *   default location at once; that is the backfill, with no batch job and no
 *   window in which a row has none. The previous release's inserts name no
 *   location and land there too. The foreign keys are NOT VALID here (no scan
 *   under a lock) and validated by 009.
 * - the new counters (safety stock, in transit) default to 0, the threshold
 *   override to null (the product's), which is what every row meant before.
 * - reserve_stock_batch is replaced by the version per (product, location); a
 *   batch of the previous release (members without candidates) reserves at the
 *   default location, with the same answers.
 *
 * Each table is altered in a transaction of its own (see `transactional`). The
 * keys change in 009 (contract). Until every replica runs this release, no
 * stock may be put at another location: the previous release's statements find
 * a product's stock by product id alone.
 */
export const locations: Migration = {
  name: '008-locations',
  // One short transaction per table, each bounded by lock_timeout: one transaction
  // holding ACCESS EXCLUSIVE on several stock tables at once would deadlock with
  // the running release, which writes them in different orders (AdjustStock: the
  // ledger, then stock; ReserveStock: stock, then the ledger). Every step is safe
  // to repeat, so a migration stopped half way is finished by running it again.
  transactional: false,
  async up(db: Knex) {
    const defaultId = await db.transaction(async (trx) => {
      await setLockTimeout(trx);
      await createLocationsTable(trx);
      return ensureDefaultLocation(trx);
    });
    for (const table of LOCATED_TABLES) {
      await db.transaction(async (trx) => {
        await setLockTimeout(trx);
        await trx.raw(`alter table ?? add column if not exists location_id uuid not null default '${defaultId}'::uuid`, [table]);
        const fk = `${table}_location_id_foreign`;
        if (!(await hasConstraint(trx, table, fk))) {
          await trx.raw('alter table ?? add constraint ?? foreign key (location_id) references locations (id) not valid', [table, fk]);
        }
      });
    }
    await db.transaction(async (trx) => {
      await setLockTimeout(trx);
      await trx.raw(`
        alter table stock_levels
          add column if not exists safety_stock bigint not null default 0,
          add column if not exists in_transit bigint not null default 0,
          add column if not exists low_stock_threshold integer`);
      if (!(await hasConstraint(trx, 'stock_levels', 'stock_levels_settings_non_negative'))) {
        await trx.raw(`
          alter table stock_levels add constraint stock_levels_settings_non_negative
            check (safety_stock >= 0 and in_transit >= 0 and (low_stock_threshold is null or low_stock_threshold >= 0)) not valid`);
      }
    });
    await db.transaction(async (trx) => {
      await setLockTimeout(trx);
      await trx.raw('alter table stock_movements add column if not exists in_transit_delta bigint not null default 0');
    });
    await db.transaction(async (trx) => {
      await setLockTimeout(trx);
      await createTransferTables(trx);
    });
    // Last, once every column it writes exists: the previous release's calls get the same answers from it.
    await db.transaction(async (trx) => {
      await setLockTimeout(trx);
      await trx.raw(ALLOCATION_LINE_HELPER);
      await trx.raw(RESERVE_STOCK_BATCH_V3);
    });
  },
  async down(db: Knex) {
    await db.transaction(async (trx) => {
      await setLockTimeout(trx);
      await trx.raw(RESERVE_STOCK_BATCH_V2);
      await trx.raw('drop function if exists larder_pb_allocation_line(text, text, bigint)');
      await trx.raw('drop function if exists larder_stock_left(jsonb, jsonb, text)');
      await trx.schema.dropTableIfExists('transfer_lines');
      await trx.schema.dropTableIfExists('transfers');
      await trx.raw('alter table stock_movements drop column if exists in_transit_delta');
      await trx.raw(`
        alter table stock_levels
          drop constraint if exists stock_levels_settings_non_negative,
          drop column if exists safety_stock, drop column if exists in_transit, drop column if exists low_stock_threshold`);
      for (const table of LOCATED_TABLES) await trx.raw('alter table ?? drop column if exists location_id', [table]);
      await trx.schema.dropTableIfExists('locations');
    });
  },
};

const ALLOCATION_LINE_HELPER = `
  -- larder.inventory.v1.AllocationLine { product_id = 1; location_id = 2; quantity = 3 }.
  create or replace function larder_pb_allocation_line(product_id text, location_id text, quantity bigint) returns bytea
  language plpgsql immutable strict as $$
  begin
    return larder_pb_bytes(1, convert_to(product_id, 'UTF8')) || larder_pb_bytes(2, convert_to(location_id, 'UTF8'))
        || larder_pb_uint(3, quantity);
  end $$;

  -- reserve_stock_batch's "left to sell" at a 'product|location' key: what was locked as available
  -- to sell (stock->key->0), less what the batch granted there so far (taken->key); no row is 0.
  -- One SQL expression, which the planner inlines into the caller's expressions.
  create or replace function larder_stock_left(stock jsonb, taken jsonb, key text) returns bigint
  language sql immutable as $$
    select coalesce((stock->key->>0)::bigint, 0) - coalesce((taken->>key)::bigint, 0)
  $$`;

async function createLocationsTable(trx: Knex.Transaction): Promise<void> {
  if (await trx.schema.hasTable('locations')) return;
  await trx.schema.createTable('locations', (t) => {
    t.uuid('id').primary();
    t.text('code').notNullable().unique();
    t.text('name').notNullable();
    t.text('kind').notNullable();
    t.text('address_line1').notNullable().defaultTo('');
    t.text('address_line2').notNullable().defaultTo('');
    t.text('city').notNullable().defaultTo('');
    t.text('postal_code').notNullable().defaultTo('');
    t.text('country_code').notNullable().defaultTo('');
    t.double('latitude');
    t.double('longitude');
    t.boolean('delivery').notNullable().defaultTo(false);
    t.boolean('pickup').notNullable().defaultTo(false);
    t.specificType('postal_code_prefixes', 'text[]').notNullable().defaultTo('{}');
    t.double('delivery_radius_km').notNullable().defaultTo(0);
    t.integer('priority').notNullable().defaultTo(0);
    t.boolean('active').notNullable().defaultTo(true);
    t.boolean('is_default').notNullable().defaultTo(false);
    t.integer('version').notNullable().defaultTo(1);
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.timestamp('deleted_at', { useTz: true });
    t.check(`kind in ('STORE', 'DARK_STORE', 'WAREHOUSE')`, [], 'locations_kind');
    t.check('(latitude is null) = (longitude is null)', [], 'locations_coordinates_both');
    t.check('delivery_radius_km >= 0', [], 'locations_radius_non_negative');
  });
  await trx.raw('create unique index locations_one_default on locations (is_default) where is_default');
}

/** The default location's id: everything so far, delivering everywhere (no area), as before locations. */
async function ensureDefaultLocation(trx: Knex.Transaction): Promise<string> {
  const existing = await trx('locations').first('id').where({ is_default: true });
  if (existing) return existing.id as string;
  const id = randomUUID();
  await trx('locations').insert({
    id,
    code: DEFAULT_LOCATION_CODE,
    name: 'Default location',
    kind: 'WAREHOUSE',
    delivery: true,
    pickup: false,
    is_default: true,
    created_at: trx.fn.now(),
    updated_at: trx.fn.now(),
  });
  return id;
}

/** Transfers: units out of one location (into its in_transit) and into another on receipt. */
async function createTransferTables(trx: Knex.Transaction): Promise<void> {
  if (!(await trx.schema.hasTable('transfers'))) {
    await trx.schema.createTable('transfers', (t) => {
      t.uuid('id').primary();
      t.text('idempotency_key').notNullable().unique();
      t.text('request_hash').notNullable();
      t.uuid('from_location_id').notNullable().references('locations.id');
      t.uuid('to_location_id').notNullable().references('locations.id');
      t.text('status').notNullable();
      t.text('note').notNullable().defaultTo('');
      t.text('loss_reason');
      t.text('receipt_hash');
      t.text('cancel_reason');
      t.timestamp('created_at', { useTz: true }).notNullable();
      t.timestamp('updated_at', { useTz: true }).notNullable();
      t.check('from_location_id <> to_location_id', [], 'transfers_two_places');
      t.check(`status in ('IN_TRANSIT', 'RECEIVED', 'CANCELLED')`, [], 'transfers_status');
    });
    await trx.raw(`create index transfers_in_transit_idx on transfers (from_location_id, to_location_id) where status = 'IN_TRANSIT'`);
  }
  if (!(await trx.schema.hasTable('transfer_lines'))) {
    await trx.schema.createTable('transfer_lines', (t) => {
      t.uuid('transfer_id').notNullable().references('transfers.id');
      t.uuid('product_id').notNullable().references('products.id');
      t.integer('quantity').notNullable();
      t.integer('received_quantity');
      t.primary(['transfer_id', 'product_id']);
      t.check('quantity > 0', [], 'transfer_lines_quantity_positive');
      t.check('received_quantity is null or (received_quantity >= 0 and received_quantity <= quantity)', [], 'transfer_lines_received');
    });
  }
}

export async function hasConstraint(db: Knex | Knex.Transaction, table: string, name: string): Promise<boolean> {
  const { rows } = await db.raw<{ rows: unknown[] }>('select 1 from pg_constraint where conrelid = ?::regclass and conname = ?', [
    table,
    name,
  ]);
  return rows.length > 0;
}
