import { withCleanup } from '../cleanup.js';
import { pgbench, psqlFile, type PgbenchResult } from '../pgbench.js';
import type { CaseResult } from '../result.js';
import { throwawayDatabase, type BenchContext } from './context.js';

export const BARE_CLIENTS = [1, 4, 16, 64] as const;
export const CLASSIC_CLIENTS = [8, 64] as const;
export const CLASSIC_SHAPES = [
  { key: '200', products: 200, label: '200 products' },
  { key: 'hot', products: 1, label: 'one hot product' },
] as const;

function toResult(id: string, label: string, run: PgbenchResult, clients: number): CaseResult {
  return {
    id,
    label,
    kind: 'baseline',
    rps: run.tps,
    errors: run.failed,
    rssMb: {},
    extra: {
      clients,
      failedPercent: run.failedPercent,
      serializationFailures: run.serializationFailures,
      latencyAvgMs: run.latencyAvgMs,
      abortedClients: run.abortedClients,
    },
    note: [
      `avg ${run.latencyAvgMs.toFixed(1)} ms`,
      run.failed ? `${run.failedPercent.toFixed(1)} % failed (serialization)` : '',
      run.abortedClients ? `${run.abortedClients} clients aborted` : '',
    ]
      .filter(Boolean)
      .join(', '),
  };
}

/** pgbench of the bare UPDATE on one row, then of the classic single-database checkout (scripts/bench/sql/). */
export async function runPgbenchCases(ctx: BenchContext): Promise<void> {
  const seconds = ctx.config.pgbenchSeconds;
  await withCleanup(async (defer) => {
    const database = await throwawayDatabase('bench_bare', [], defer);
    await psqlFile(database.url, 'classic-schema.sql', { products: 1 });
    for (const clients of BARE_CLIENTS) {
      const run = await pgbench(database.url, 'bare-update.sql', clients, seconds);
      ctx.report(
        toResult(`pgbench-bare-${clients}`, `pgbench bare UPDATE, 1 row, ${clients} client${clients === 1 ? '' : 's'}`, run, clients),
      );
    }
  });
  for (const shape of CLASSIC_SHAPES) {
    await withCleanup(async (defer) => {
      const database = await throwawayDatabase('bench_classic', [], defer);
      await psqlFile(database.url, 'classic-schema.sql', { products: shape.products });
      for (const clients of CLASSIC_CLIENTS) {
        const run = await pgbench(database.url, 'classic-checkout.sql', clients, seconds, { products: shape.products });
        ctx.report(
          toResult(`classic-${shape.key}-${clients}`, `pgbench classic checkout, ${shape.label}, ${clients} clients`, run, clients),
        );
      }
    });
  }
}
