import type { Knex } from 'knex';
import type { Tx } from './types.js';

/** What a unit of work needs: the pool, and what to wake once a transaction that wrote outbox rows committed. */
export interface TransactionDeps {
  db: Knex;
  afterCommit(): void;
}

/** Runs `work` in one transaction and wakes the relay once it committed (not when it rolled back). */
export async function inTransaction<T>(deps: TransactionDeps, work: (trx: Tx) => Promise<T>): Promise<T> {
  const result = await deps.db.transaction(work);
  deps.afterCommit();
  return result;
}
