import { createHash } from 'node:crypto';
import type { Knex } from 'knex';

/**
 * Named prepared statements for the hot statements, switchable per pool.
 *
 * An unnamed statement is parsed and planned on every call: for the saga's
 * step write and the settlement statement (several data-modifying CTEs) that
 * costs PostgreSQL more than executing them (pg_stat_statements with
 * track_planning: about 0.28 ms of planning against 0.05-0.2 ms of execution
 * per call). A named statement is parsed once per connection and its plan is
 * cached by the backend.
 *
 * Call sites opt in with `prepared(query)`: only statements with a fixed set of
 * texts and explicit result columns (a cached plan of `select *` fails once a
 * migration adds a column). The statement's name is a hash of its final SQL
 * text, so statements whose text varies (the step write's SET list) get one
 * name per variant and a name never meets a second text.
 *
 * PgBouncer 1.18 in transaction pooling mode cannot carry named statements
 * (the next transaction may run on another server connection): a pool created
 * with `preparedStatements: false` (DATABASE_PREPARED_STATEMENTS=false) runs
 * the same statements unnamed.
 */

/** The flag on a query; createDatabase turns it into a statement name, or ignores it. */
const PREPARE = 'larderPrepare';

/** Marks a query to run as a named prepared statement where the pool allows it. */
export function prepared<T extends Knex.Raw | Knex.QueryBuilder>(query: T): T {
  return query.options({ [PREPARE]: true }) as T;
}

/** pg's statement name (at most 63 bytes) for one SQL text. */
export function statementName(sql: string): string {
  return `l_${createHash('sha1').update(sql).digest('hex').slice(0, 24)}`;
}

interface QueryConfig {
  text: string;
  [key: string]: unknown;
}

interface PgConnection {
  query(config: unknown, ...rest: unknown[]): unknown;
}

/**
 * Hooks one pooled pg connection (the pool's afterCreate) so that marked
 * queries carry a statement name (enabled) or run unnamed as before (disabled:
 * the mark is dropped before pg sees it). knex hands `.options()` to pg's
 * query config, so the mark arrives here with the final SQL text.
 */
export function hookPreparedStatements(connection: PgConnection, enabled: boolean): void {
  const run = connection.query.bind(connection);
  connection.query = (config: unknown, ...rest: unknown[]) => {
    if (typeof config !== 'object' || config === null || !(PREPARE in config)) return run(config, ...rest);
    const { [PREPARE]: _mark, ...plain } = config as unknown as QueryConfig;
    return run(enabled ? { ...plain, name: namedFor(plain.text) } : plain, ...rest);
  };
}

/** Names by text, remembered (the marked texts are a small, fixed set): hashing each call would cost more than it saves. */
const names = new Map<string, string>();

function namedFor(sql: string): string {
  let name = names.get(sql);
  if (name === undefined) {
    name = statementName(sql);
    names.set(sql, name);
  }
  return name;
}
