import type { Knex } from 'knex';

/** The SQL of every statement the knex instance (and its transactions) sends until stop(). */
export function recordStatements(db: Knex): { sql: string[]; stop(): void } {
  const sql: string[] = [];
  const listener = (query: { sql: string }) => sql.push(query.sql.trim());
  db.on('query', listener);
  return { sql, stop: () => db.off('query', listener) };
}
