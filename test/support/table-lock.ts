import type { Knex } from 'knex';

/** A table lock a test holds in a transaction of its own until release(). */
export interface HeldTableLock {
  /** Ends the holding transaction (rolled back: it wrote nothing); the blocked statements go on. */
  release(): Promise<void>;
}

/**
 * Takes `mode` on `table` and keeps it: statements that conflict with it wait
 * until release(), so a test can hold a step of a service at a known point
 * instead of hoping to catch it there. Taking the lock waits at most 10 s for
 * conflicting locks held by others (lock_timeout), then fails.
 * Modes: https://www.postgresql.org/docs/current/explicit-locking.html
 * (EXCLUSIVE blocks every write and SELECT … FOR UPDATE, not a plain read;
 * SHARE blocks inserts, updates and deletes).
 */
export async function holdTableLock(db: Knex, table: string, mode: 'SHARE' | 'EXCLUSIVE'): Promise<HeldTableLock> {
  const trx = await db.transaction();
  try {
    await trx.raw(`set local lock_timeout = '10s'`);
    await trx.raw(`lock table ?? in ${mode} mode`, [table]);
  } catch (error) {
    await trx.rollback().catch(() => undefined);
    throw error;
  }
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      await trx.rollback();
    },
  };
}
