import type { Knex } from 'knex';

/**
 * The outbox: events written in the same transaction as the change they describe,
 * published later by the relay. Rows are kept after publishing (published_at set)
 * for the retention period, so PostgreSQL stays the source of truth for replays.
 */
export async function createOutboxTable(db: Knex): Promise<void> {
  await db.schema.createTable('outbox', (t) => {
    t.uuid('id').primary();
    t.text('subject').notNullable();
    t.text('event_type').notNullable();
    t.binary('payload').notNullable();
    t.text('correlation_id');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp('published_at', { useTz: true });
    t.integer('publish_attempts').notNullable().defaultTo(0);
    t.text('last_error');
  });
  // The relay's work queue: only unpublished rows, oldest first.
  await db.raw('create index outbox_unpublished_idx on outbox (created_at) where published_at is null');
  await db.raw('create index outbox_published_idx on outbox (published_at) where published_at is not null');
}

/**
 * outbox.trace_context (jsonb, nullable): the trace context of the request that
 * wrote the row, for the relay to continue (trace-headers.ts). A nullable column
 * without a default is a catalog change only: no table rewrite, one brief lock,
 * bounded by the migration's lock_timeout. Rows written before it, or by code
 * that does not know it, have null there and are published untraced.
 */
export async function addOutboxTraceContext(db: Knex): Promise<void> {
  await db.raw('alter table outbox add column if not exists trace_context jsonb');
}

export async function dropOutboxTraceContext(db: Knex): Promise<void> {
  await db.raw('alter table outbox drop column if exists trace_context');
}

/**
 * The inbox: ids of events a consumer has already applied, written in the same
 * transaction as the effect, so a redelivered message changes nothing twice.
 */
export async function createInboxTable(db: Knex): Promise<void> {
  await db.schema.createTable('inbox', (t) => {
    t.uuid('event_id').notNullable();
    t.text('consumer').notNullable();
    t.text('subject').notNullable();
    t.timestamp('processed_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.primary(['consumer', 'event_id']);
  });
}
