import type { Knex } from 'knex';

/** One knex migration, named and listed explicitly so no file-system scan or loader is involved. */
export interface Migration {
  name: string;
  up(db: Knex): Promise<void>;
  down(db: Knex): Promise<void>;
  /** false for migrations that build indexes CONCURRENTLY (they cannot run in a transaction). */
  transactional?: boolean;
}

function migrationSource(migrations: readonly Migration[]): Knex.MigrationSource<Migration> {
  return {
    getMigrations: async () => [...migrations],
    getMigrationName: (migration) => migration.name,
    getMigration: async (migration) => ({
      up: migration.up,
      down: migration.down,
      config: { transaction: migration.transactional ?? true },
    }),
  };
}

/** Applies every migration not yet applied; safe to run from several processes at once (knex's lock). */
export async function migrateToLatest(db: Knex, migrations: readonly Migration[]): Promise<string[]> {
  const [, applied] = (await db.migrate.latest({ migrationSource: migrationSource(migrations) })) as [number, string[]];
  return applied;
}

/** Rolls back to (and excluding) nothing: every migration, newest first. For tests. */
export async function migrateDownAll(db: Knex, migrations: readonly Migration[]): Promise<void> {
  await db.migrate.rollback({ migrationSource: migrationSource(migrations) }, true);
}

/**
 * Migrations run against live traffic: wait at most this long for a lock, so a
 * migration that queues behind a long transaction fails (and can be retried)
 * instead of blocking every query queued behind it.
 *
 * Transaction-local (`set_config(…, true)`, i.e. SET LOCAL): a plain SET would
 * outlive the migration on its server connection, and behind PgBouncer in
 * transaction mode that connection next serves the application, which would
 * then fail its own statements after 5 s of lock wait. Hence only inside a
 * transactional migration (outside one, SET LOCAL would silently do nothing).
 */
export async function setLockTimeout(db: Knex, timeout = '5s'): Promise<void> {
  if (!(db as Knex.Transaction).isTransaction) throw new Error('setLockTimeout needs the transaction of a transactional migration');
  await db.raw(`select set_config('lock_timeout', ?, true)`, [timeout]);
}
