import type { Knex } from 'knex';
import type { Migration } from '#libs/db/migrate.js';

/**
 * "Products in category X" reads product_categories by category. Built
 * CONCURRENTLY so writes to product_categories go on while it builds; hence
 * outside a transaction.
 */
export const categoryLookupIndex: Migration = {
  name: '003-category-lookup-index',
  transactional: false,
  async up(db: Knex) {
    await db.raw('create index concurrently if not exists product_categories_category_idx on product_categories (category_id, product_id)');
  },
  async down(db: Knex) {
    await db.raw('drop index concurrently if exists product_categories_category_idx');
  },
};
