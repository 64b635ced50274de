import type { Knex } from 'knex';
import type { Migration } from '#libs/db/migrate.js';
import { setLockTimeout } from '#libs/db/migrate.js';
import { createInboxTable, createOutboxTable } from '#libs/events/outbox-schema.js';

/** Carts, orders with their items and log, the simulated gateway's charges, outbox/inbox. */
export const cartsAndOrders: Migration = {
  name: '001-carts-and-orders',
  async up(db: Knex) {
    await setLockTimeout(db);
    await db.schema.createTable('carts', (t) => {
      t.uuid('customer_id').primary();
      t.timestamp('updated_at', { useTz: true }).notNullable();
    });
    await db.schema.createTable('cart_items', (t) => {
      t.uuid('customer_id').notNullable().references('carts.customer_id').onDelete('CASCADE');
      t.uuid('product_id').notNullable();
      t.integer('quantity').notNullable();
      t.primary(['customer_id', 'product_id']);
      t.check('quantity > 0 and quantity <= 1000', [], 'cart_items_quantity_range');
    });

    await db.schema.createTable('orders', (t) => {
      t.uuid('id').primary();
      t.uuid('customer_id').notNullable();
      t.text('status').notNullable();
      t.text('idempotency_key').notNullable();
      t.text('request_hash').notNullable();
      t.text('payment_token').notNullable();
      // The request that created the order: later saga steps log and propagate it too.
      t.text('correlation_id');
      t.text('payment_status').notNullable().defaultTo('NOT_STARTED');
      t.jsonb('shipping_address');
      t.bigInteger('total_minor');
      t.specificType('currency_code', 'char(3)');
      t.integer('attempts').notNullable().defaultTo(0);
      t.integer('payment_attempts').notNullable().defaultTo(0);
      t.text('last_error');
      t.text('cancel_reason');
      t.boolean('cancel_requested').notNullable().defaultTo(false);
      t.boolean('reservation_expired').notNullable().defaultTo(false);
      // The saga's work queue: due when next_attempt_at <= now and no live lease.
      t.timestamp('next_attempt_at', { useTz: true });
      t.timestamp('lease_until', { useTz: true });
      t.uuid('lease_token');
      // When a worker last claimed the order, and when a cancellation or an expired
      // reservation was flagged: a flag newer than the claim makes the order due now,
      // whatever backoff the step in flight writes when it ends.
      t.timestamp('claimed_at', { useTz: true });
      t.timestamp('flagged_at', { useTz: true });
      t.integer('version').notNullable().defaultTo(1);
      t.timestamp('created_at', { useTz: true }).notNullable();
      t.timestamp('updated_at', { useTz: true }).notNullable();
      t.timestamp('deleted_at', { useTz: true });
      // One order per idempotency key and customer: a retried checkout finds it.
      t.unique(['customer_id', 'idempotency_key']);
      t.index(['customer_id', 'id']);
    });
    await db.raw('create index orders_due_idx on orders (next_attempt_at) where next_attempt_at is not null');
    await db.raw(`create index orders_flagged_idx on orders (flagged_at) where flagged_at is not null
                    and status in ('PENDING', 'AWAITING_STOCK', 'RESERVED', 'CONFIRMED')`);

    await db.schema.createTable('order_items', (t) => {
      t.uuid('order_id').notNullable().references('orders.id');
      t.uuid('product_id').notNullable();
      t.integer('quantity').notNullable();
      t.bigInteger('unit_price_minor');
      t.specificType('currency_code', 'char(3)');
      t.primary(['order_id', 'product_id']);
      // Restock events look up waiting orders by product.
      t.index(['product_id']);
    });

    await db.schema.createTable('order_events', (t) => {
      t.uuid('order_id').notNullable().references('orders.id');
      t.integer('sequence').notNullable();
      t.text('from_status');
      t.text('to_status').notNullable();
      t.text('reason').notNullable().defaultTo('');
      t.text('error');
      t.text('correlation_id');
      t.timestamp('created_at', { useTz: true }).notNullable();
      t.primary(['order_id', 'sequence']);
    });

    // The payment simulator's own books (a real gateway keeps these on its side).
    await db.schema.createTable('simulated_charges', (t) => {
      t.uuid('order_id').primary();
      t.bigInteger('amount_minor').notNullable();
      t.specificType('currency_code', 'char(3)').notNullable();
      t.text('token').notNullable();
      t.text('status').notNullable();
      t.timestamp('created_at', { useTz: true }).notNullable();
      t.timestamp('refunded_at', { useTz: true });
    });

    await createOutboxTable(db);
    await createInboxTable(db);
  },
  async down(db: Knex) {
    for (const table of ['inbox', 'outbox', 'simulated_charges', 'order_events', 'order_items', 'orders', 'cart_items', 'carts']) {
      await db.schema.dropTableIfExists(table);
    }
  },
};
