import type { Knex } from 'knex';
import type { Migration } from '#libs/db/migrate.js';
import { setLockTimeout } from '#libs/db/migrate.js';

/**
 * Categories, many-to-many with products. Written to run under live traffic
 * (expand step): only new tables, so running product reads and writes never
 * wait on it except for the brief lock the foreign key takes on products,
 * bounded by lock_timeout. The product code tolerates these tables being absent.
 */
export const categories: Migration = {
  name: '002-categories',
  async up(db: Knex) {
    await setLockTimeout(db);
    await db.schema.createTable('categories', (t) => {
      t.uuid('id').primary();
      t.text('name').notNullable();
      t.text('description').notNullable().defaultTo('');
      t.timestamp('created_at', { useTz: true }).notNullable();
      t.timestamp('updated_at', { useTz: true }).notNullable();
    });
    // Names are unique regardless of case: "Dairy" and "dairy" are one category.
    await db.raw('create unique index categories_name_key on categories (lower(name))');
    await db.schema.createTable('product_categories', (t) => {
      t.uuid('product_id').notNullable().references('products.id');
      t.uuid('category_id').notNullable().references('categories.id').onDelete('CASCADE');
      t.primary(['product_id', 'category_id']);
    });
  },
  async down(db: Knex) {
    await db.schema.dropTableIfExists('product_categories');
    await db.schema.dropTableIfExists('categories');
  },
};
