import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { dropDatabase, ensureDatabase, withDatabase } from '#libs/db/admin.js';
import { createDatabase } from '#libs/db/knex.js';
import { migrateToLatest, type Migration } from '#libs/db/migrate.js';

/** Server that tests create their throwaway databases on. */
export const TEST_DATABASE_SERVER = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  url: string;
  db: Knex;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

/** A fresh database with a unique name, migrated (unless migrations is empty), for one test file. */
export async function createTestDatabase(
  prefix: string,
  migrations: readonly Migration[] = [],
  server: string = TEST_DATABASE_SERVER,
): Promise<TestDatabase> {
  const name = `${prefix}_test_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const url = withDatabase(server, name);
  await ensureDatabase(url);
  const db = createDatabase({ url, poolMax: 20, applicationName: name });
  if (migrations.length > 0) await migrateToLatest(db, migrations);
  return {
    url,
    db,
    async drop() {
      await db.destroy();
      await dropDatabase(url);
    },
  };
}
