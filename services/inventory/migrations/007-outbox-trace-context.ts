import type { Knex } from 'knex';
import { setLockTimeout, type Migration } from '#libs/db/migrate.js';
import { addOutboxTraceContext, dropOutboxTraceContext } from '#libs/events/outbox-schema.js';
import { RESERVE_STOCK_BATCH_V1, RESERVE_STOCK_BATCH_V2 } from './reserve-stock-batch-texts.js';

/**
 * outbox.trace_context: the request's W3C trace context, which the relay puts
 * into the published message's headers; reserve_stock_batch writes it from
 * each member's `tc`. Safe under traffic: the column is nullable without a
 * default (no rewrite); the previous release's calls carry no `tc`, so the new
 * function writes null for them, and the previous function ignores a `tc` the
 * new release sends.
 */
export const outboxTraceContext: Migration = {
  name: '007-outbox-trace-context',
  async up(db: Knex) {
    await setLockTimeout(db);
    await addOutboxTraceContext(db);
    await db.raw(RESERVE_STOCK_BATCH_V2);
  },
  async down(db: Knex) {
    await setLockTimeout(db);
    await db.raw(RESERVE_STOCK_BATCH_V1);
    await dropOutboxTraceContext(db);
  },
};
