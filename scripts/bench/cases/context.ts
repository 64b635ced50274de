import type { Migration } from '#libs/db/migrate.js';
import { createTestDatabase, type TestDatabase } from '#test/support/test-database.js';
import { onCleanup } from '../cleanup.js';
import type { BenchConfig } from '../config.js';
import type { CaseResult } from '../result.js';

/** What every case group gets: the knobs, the run's throwaway NATS, where logs go, and where to report. */
export interface BenchContext {
  config: BenchConfig;
  natsUrl: string;
  logDir: string;
  report(result: CaseResult): void;
}

/** A throwaway database (test/support/test-database.ts) that is dropped even if the run is interrupted. */
export async function throwawayDatabase(
  prefix: string,
  migrations: readonly Migration[],
  defer: (undo: () => Promise<unknown>) => void,
): Promise<TestDatabase> {
  const database = await createTestDatabase(prefix, migrations);
  defer(() => database.drop());
  return database;
}

export { onCleanup };
