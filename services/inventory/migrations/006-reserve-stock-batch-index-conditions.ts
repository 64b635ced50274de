import type { Knex } from 'knex';
import type { Migration } from '#libs/db/migrate.js';
import { setLockTimeout } from '#libs/db/migrate.js';
import { RESERVE_STOCK_BATCH_V2 } from './reserve-stock-batch-texts.js';

/**
 * reserve_stock_batch again, its look-ups written as index conditions
 * (`= any(array(…))`). As joins on jsonb_array_elements, which the planner
 * assumes returns 100 rows, they were planned as hash joins over a sequential
 * scan of reservations and stock_levels: a cost that grew with the tables
 * (auto_explain during the checkout bench). Replacing a function waits on no
 * table lock; a call running meanwhile finishes on the text it started with.
 */
export const reserveStockBatchIndexConditions: Migration = {
  name: '006-reserve-stock-batch-index-conditions',
  async up(db: Knex) {
    await setLockTimeout(db);
    await db.raw(RESERVE_STOCK_BATCH_V2);
  },
  // Down leaves the function as it is: the older text behaves the same, only slower.
  async down() {},
};
