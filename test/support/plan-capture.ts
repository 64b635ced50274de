import type { Knex } from 'knex';
import { createDatabase } from '#libs/db/knex.js';

export interface PlanCapture {
  /** One connection, prepared statements on as in the services: every statement it runs has its plan captured. */
  readonly db: Knex;
  /** The plans seen so far, nested statements (SQL functions, PL/pgSQL) included. */
  readonly plans: string[];
  /** The tables some captured plan reads with a sequential scan. */
  seqScannedTables(): string[];
  destroy(): Promise<void>;
}

/**
 * auto_explain on a pool of one connection, its output sent to the client as
 * NOTICEs: the plans PostgreSQL really chose, custom and generic alike (run a
 * statement more than 5 times to see the generic one), inside functions too.
 * Needs a superuser (LOAD), as the tests' database server user is.
 */
export async function capturePlans(url: string): Promise<PlanCapture> {
  const db = createDatabase({ url, poolMax: 1, preparedStatements: true, applicationName: 'plan-capture' });
  const plans: string[] = [];
  const connection = await db.client.acquireConnection();
  connection.on('notice', (notice: { message?: string }) => {
    if (notice.message?.includes('Query Text:')) plans.push(notice.message);
  });
  await db.client.releaseConnection(connection);
  await db.raw(`load 'auto_explain'`);
  for (const setting of [
    'auto_explain.log_min_duration = 0',
    'auto_explain.log_nested_statements = on',
    'auto_explain.log_level = notice',
    'client_min_messages = notice',
  ]) {
    await db.raw(`set ${setting}`);
  }
  return {
    db,
    plans,
    seqScannedTables: () => [...new Set(plans.flatMap((plan) => [...plan.matchAll(/Seq Scan on (\w+)/g)].map((m) => m[1]!)))].sort(),
    destroy: () => db.destroy(),
  };
}
