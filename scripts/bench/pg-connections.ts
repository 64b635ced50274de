import { createDatabase } from '#libs/db/knex.js';
import { TEST_DATABASE_SERVER } from '#test/support/test-database.js';

/** The services' backends on a case's databases over a load: how many were open at most, and how many were busy on average. */
export interface PgConnections {
  /** Most backends open at once (the services' pools grow on demand up to DB_POOL_MAX each). */
  openMax: number;
  /** Mean of the backends not idle (running a statement, or idle in transaction) per sample. */
  busyMean: number;
}

const SAMPLE_MS = 500;
/** The services' application_name (libs/service/runtime.ts): the bench's own connections to the same databases are not counted. */
const SERVICES = ['inventory', 'order'];

/**
 * Samples pg_stat_activity for `databases` every 500 ms, on one connection of
 * its own (to the server's maintenance database, so it is not one of those it
 * counts); stop() gives the figures.
 */
export function samplePgConnections(databases: readonly string[]): { stop(): Promise<PgConnections> } {
  const db = createDatabase({ url: TEST_DATABASE_SERVER, poolMax: 1, applicationName: 'bench-pg-connections' });
  let openMax = 0;
  let busySum = 0;
  let samples = 0;
  let inFlight: Promise<void> = Promise.resolve();
  const sample = async () => {
    const { rows } = await db.raw<{ rows: { open: string; busy: string }[] }>(
      `select count(*) as open, count(*) filter (where state <> 'idle') as busy
         from pg_stat_activity
        where datname = any(?) and backend_type = 'client backend' and application_name = any(?)`,
      [[...databases], [...SERVICES]],
    );
    openMax = Math.max(openMax, Number(rows[0]!.open));
    busySum += Number(rows[0]!.busy);
    samples++;
  };
  const timer = setInterval(() => {
    inFlight = inFlight.then(sample).catch(() => undefined);
  }, SAMPLE_MS);
  let stopped: Promise<PgConnections> | undefined;
  return {
    // Idempotent: the caller's cleanup may stop it again after it read the figures.
    stop: () =>
      (stopped ??= (async () => {
        clearInterval(timer);
        await inFlight;
        await db.destroy();
        return { openMax, busyMean: samples ? busySum / samples : 0 };
      })()),
  };
}
