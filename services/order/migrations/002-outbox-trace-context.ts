import type { Knex } from 'knex';
import { setLockTimeout, type Migration } from '#libs/db/migrate.js';
import { addOutboxTraceContext, dropOutboxTraceContext } from '#libs/events/outbox-schema.js';

/**
 * outbox.trace_context: the request's W3C trace context, which the relay puts
 * into the published message's headers. Nullable, no default: safe while the
 * previous release writes rows without it.
 */
export const outboxTraceContext: Migration = {
  name: '002-outbox-trace-context',
  async up(db: Knex) {
    await setLockTimeout(db);
    await addOutboxTraceContext(db);
  },
  async down(db: Knex) {
    await setLockTimeout(db);
    await dropOutboxTraceContext(db);
  },
};
