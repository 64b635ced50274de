import type { Knex } from 'knex';
import type { Migration } from '#libs/db/migrate.js';
import { setLockTimeout } from '#libs/db/migrate.js';
import { createInboxTable, createOutboxTable } from '#libs/events/outbox-schema.js';

/** Products, their stock (one row each, the reservation hot row), the ledger, reservations, outbox/inbox. */
export const productsAndStock: Migration = {
  name: '001-products-and-stock',
  async up(db: Knex) {
    await setLockTimeout(db);
    await db.schema.createTable('products', (t) => {
      t.uuid('id').primary();
      t.text('sku').notNullable().unique();
      t.text('name').notNullable();
      t.text('description').notNullable().defaultTo('');
      t.bigInteger('price_minor').notNullable();
      t.specificType('currency_code', 'char(3)').notNullable();
      t.integer('low_stock_threshold').notNullable().defaultTo(0);
      t.integer('version').notNullable().defaultTo(1);
      t.timestamp('created_at', { useTz: true }).notNullable();
      t.timestamp('updated_at', { useTz: true }).notNullable();
      t.timestamp('deleted_at', { useTz: true });
      t.check('price_minor >= 0', [], 'products_price_non_negative');
      t.check('low_stock_threshold >= 0', [], 'products_threshold_non_negative');
    });

    await db.schema.createTable('stock_levels', (t) => {
      t.uuid('product_id').primary().references('products.id');
      t.bigInteger('available').notNullable();
      t.bigInteger('reserved').notNullable().defaultTo(0);
      t.bigInteger('sold').notNullable().defaultTo(0);
      t.timestamp('updated_at', { useTz: true }).notNullable();
      // Backstop: application bugs can fail a request, never corrupt stock.
      t.check('available >= 0 and reserved >= 0 and sold >= 0', [], 'stock_levels_non_negative');
    });

    // The ledger: every change of a stock row, as deltas, in the same transaction.
    await db.schema.createTable('stock_movements', (t) => {
      t.bigIncrements('id').primary();
      t.uuid('product_id').notNullable().references('products.id');
      t.text('kind').notNullable();
      t.bigInteger('available_delta').notNullable();
      t.bigInteger('reserved_delta').notNullable();
      t.bigInteger('sold_delta').notNullable();
      t.text('reference');
      t.timestamp('created_at', { useTz: true }).notNullable();
      t.index(['product_id']);
    });

    await db.schema.createTable('reservations', (t) => {
      t.uuid('order_id').primary();
      t.text('status').notNullable();
      t.text('request_hash').notNullable();
      t.timestamp('expires_at', { useTz: true }).notNullable();
      t.text('release_reason');
      t.timestamp('created_at', { useTz: true }).notNullable();
      t.timestamp('updated_at', { useTz: true }).notNullable();
    });
    // The sweeper's work queue.
    await db.raw(`create index reservations_expiry_idx on reservations (expires_at) where status = 'RESERVED'`);

    await db.schema.createTable('reservation_items', (t) => {
      t.uuid('order_id').notNullable().references('reservations.order_id');
      t.uuid('product_id').notNullable().references('products.id');
      t.integer('quantity').notNullable();
      t.bigInteger('unit_price_minor').notNullable();
      t.specificType('currency_code', 'char(3)').notNullable();
      t.primary(['order_id', 'product_id']);
      t.index(['product_id']);
      t.check('quantity > 0', [], 'reservation_items_quantity_positive');
    });

    await db.schema.createTable('stock_adjustments', (t) => {
      t.text('idempotency_key').primary();
      t.uuid('product_id').notNullable().references('products.id');
      t.integer('delta').notNullable();
      t.text('reason').notNullable();
      t.text('note').notNullable().defaultTo('');
      t.text('request_hash').notNullable();
      t.bigInteger('result_available');
      t.bigInteger('result_reserved');
      t.bigInteger('result_sold');
      t.timestamp('created_at', { useTz: true }).notNullable();
    });

    await createOutboxTable(db);
    await createInboxTable(db);
  },
  async down(db: Knex) {
    for (const table of [
      'inbox',
      'outbox',
      'stock_adjustments',
      'reservation_items',
      'reservations',
      'stock_movements',
      'stock_levels',
      'products',
    ]) {
      await db.schema.dropTableIfExists(table);
    }
  },
};
