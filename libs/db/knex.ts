import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import { hookPreparedStatements } from './prepared.js';

// bigint (int8) columns hold stock counts and money in minor units; all fit in a
// JS number (< 2^53), so parse them once here instead of in every row mapper.
pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value));

export interface DatabaseOptions {
  /** postgres://user@host:port/database */
  url: string;
  /** Maximum pool size (default 10). */
  poolMax?: number;
  /** Name shown in pg_stat_activity. */
  applicationName?: string;
  /**
   * Run the statements marked with prepared() as named prepared statements
   * (default false). Off behind PgBouncer in transaction pooling mode before 1.21.
   */
  preparedStatements?: boolean;
  /** Where knex's own warnings go (default: dropped; callers see errors as values anyway). */
  onWarning?: (message: string) => void;
}

/** Builds a knex instance with its own pool; the caller owns it and must destroy() it. */
export function createDatabase(options: DatabaseOptions): Knex {
  const warn = (message: unknown) => options.onWarning?.(String(message));
  const preparedStatements = options.preparedStatements ?? false;
  return knexFactory({
    client: 'pg',
    // knex prints pool errors to the console by default; they surface as failed queries anyway.
    log: { warn, error: warn, deprecate: warn, debug: () => undefined },
    connection: {
      connectionString: options.url,
      application_name: options.applicationName ?? 'larder',
    },
    pool: {
      min: 0,
      max: options.poolMax ?? 10,
      // Fail a request fast instead of queueing forever when the database is gone.
      acquireTimeoutMillis: 5_000,
      // Every new connection learns to name the statements marked with prepared().
      afterCreate(connection: Parameters<typeof hookPreparedStatements>[0], done: (error: Error | null, connection: unknown) => void) {
        hookPreparedStatements(connection, preparedStatements);
        done(null, connection);
      },
    },
  });
}

/** True when the database answers a trivial query within the timeout. */
export async function isDatabaseReachable(db: Knex, timeoutMs = 2_000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      db.raw('select 1'),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
      }),
    ]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
