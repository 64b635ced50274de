/**
 * `npm run bench`: Larder side by side with its baselines, in one run, on
 * throwaway databases and a throwaway NATS, each server in a process of its
 * own and the load from a generator process of its own (load/).
 * Prints one table of cases and one of the goals of issue 8; writes
 * scripts/bench/results/<time>.json, latest.json, latest.svg and (full runs) the
 * table of docs/benchmark.md. Knobs: BENCH_* (scripts/bench/config.ts, docs/benchmark.md).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDatabase } from '#libs/db/knex.js';
import { TEST_DATABASE_SERVER } from '#test/support/test-database.js';
import { startThrowawayNatsServer } from '#test/support/nats-server.js';
import { runBaselines } from './cases/baselines.js';
import { runCheckout } from './cases/checkout.js';
import type { BenchContext } from './cases/context.js';
import { runCatalogCache } from './cases/catalog-cache.js';
import { runListProducts } from './cases/list-products.js';
import { runPgbenchCases } from './cases/pgbench-cases.js';
import { runReserveStock } from './cases/reserve-stock.js';
import { runScale } from './cases/scale.js';
import { cleanupOnSignals, withCleanup } from './cleanup.js';
import { CASE_GROUPS, readBenchConfig, type BenchConfig } from './config.js';
import { BENCHMARK_PAGE, checkBenchmarkPage, writeBenchmarkTable } from './report/benchmark-page.js';
import { checkGoals } from './report/goals.js';
import { formatResultsJson } from './report/json.js';
import { describeMachine, type MachineInfo } from './report/machine.js';
import { measuredRevision } from './report/revision.js';
import { scalingChecks, scalingSummary } from './report/scaling.js';
import { throughputSvg } from './report/svg.js';
import { casesTable, goalsTable } from './report/table.js';
import type { CaseResult } from './result.js';

const GROUPS: Record<(typeof CASE_GROUPS)[number], (ctx: BenchContext) => Promise<void>> = {
  baselines: runBaselines,
  pgbench: runPgbenchCases,
  reserve: runReserveStock,
  checkout: runCheckout,
  list: runListProducts,
  cache: runCatalogCache,
  scale: runScale,
};

const fromRoot = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));

/** Only a full run of every case, with writing on, stands on the benchmark page. */
const publishes = (config: BenchConfig) => config.write && !config.quick && config.cases.size === CASE_GROUPS.length;

async function postgresVersion(): Promise<string> {
  const db = createDatabase({ url: TEST_DATABASE_SERVER, poolMax: 1, applicationName: 'bench' });
  try {
    const { rows } = await db.raw<{ rows: { server_version: string }[] }>('show server_version');
    return rows[0]!.server_version;
  } finally {
    await db.destroy();
  }
}

function machineLine(machine: MachineInfo): string {
  const others = machine.busiestOtherProcesses.length ? machine.busiestOtherProcesses.join('; ') : 'nothing above 5 % CPU';
  return (
    `${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGb} GiB, Node ${machine.node}, PostgreSQL ${machine.postgres}; ` +
    `PostgreSQL, the services and the load generator share the cores. Load average at start ${machine.loadAverageAtStart.join(' / ')}; ` +
    `busiest other processes at start: ${others}.`
  );
}

async function main(): Promise<void> {
  cleanupOnSignals();
  const config = readBenchConfig();
  // A full run takes long: learn before it, not after, that its table has nowhere to go.
  if (publishes(config)) checkBenchmarkPage(fromRoot(BENCHMARK_PAGE));
  const startedAt = new Date();
  const machine = describeMachine(await postgresVersion());
  const results = await withCleanup(async (defer) => {
    const nats = await startThrowawayNatsServer();
    defer(() => nats.destroy());
    return runCases(config, machine, nats.url);
  });
  await report(config, machine, startedAt, results);
}

async function runCases(config: BenchConfig, machine: MachineInfo, natsUrl: string): Promise<CaseResult[]> {
  const logDir = mkdtempSync(join(tmpdir(), 'larder-bench-'));
  const results: CaseResult[] = [];
  const ctx: BenchContext = {
    config,
    natsUrl,
    logDir,
    report(result) {
      results.push(result);
      console.log(
        `  ${result.label}: ${result.rps.toFixed(0)}/s, p50 ${result.p50?.toFixed(1) ?? '–'} ms, p99 ${result.p99?.toFixed(1) ?? '–'} ms, errors ${result.errors}${result.note ? ` (${result.note})` : ''}`,
      );
    },
  };
  console.log(
    `Larder bench${config.quick ? ' (quick)' : ''}: ${config.concurrency} calls in flight, ${config.seconds} s windows after ${config.warmupSeconds} s warm-up, ` +
      `pgbench ${config.pgbenchSeconds} s; service logs in ${logDir}\n${machineLine(machine)}\n`,
  );
  for (const group of CASE_GROUPS) {
    if (!config.cases.has(group)) continue;
    console.log(`${group}…`);
    const started = performance.now();
    await GROUPS[group](ctx);
    console.log(`  (${group}: ${((performance.now() - started) / 1000).toFixed(0)} s)`);
  }
  return results;
}

async function report(config: BenchConfig, machine: MachineInfo, startedAt: Date, results: CaseResult[]): Promise<void> {
  const revision = measuredRevision();
  // The goals of issue 8, then the scale case's informational lines (no target).
  const goals = [...checkGoals(results), ...scalingChecks(results)];
  const noop = results.find((r) => r.id === 'noop');
  const generatorLine = noop
    ? `Load generator (node:http2, hand-framed gRPC, own process): ${noop.rps.toFixed(0)} calls/s against the no-op server at ${noop.extra.generatorCpuPercent?.toFixed(0)} % of one core; every Larder figure below is under that.`
    : '';
  const text = [
    `Run of ${startedAt.toISOString()} at ${revision}${config.quick ? ' (BENCH_QUICK=1)' : ''}: ${config.concurrency} in flight, ${config.seconds} s windows, pgbench ${config.pgbenchSeconds} s per client count.`,
    `Machine: ${machineLine(machine)}`,
    ...(generatorLine ? [generatorLine] : []),
    '',
    casesTable(results),
    '',
    goalsTable(goals),
  ].join('\n');
  console.log(`\n${text}\n`);

  if (config.write) {
    const dir = fromRoot('scripts/bench/results');
    mkdirSync(dir, { recursive: true });
    const run = {
      startedAt: startedAt.toISOString(),
      revision,
      config: { ...config, cases: [...config.cases] },
      machine,
      results,
      goals,
      scaling: scalingSummary(results),
    };
    const json = await formatResultsJson(run, join(dir, 'latest.json'));
    const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
    writeFileSync(join(dir, `${stamp}${config.quick ? '-quick' : ''}.json`), json);
    writeFileSync(join(dir, 'latest.json'), json);
    writeFileSync(
      join(dir, 'latest.svg'),
      throughputSvg(results, `Larder vs baselines, ${startedAt.toISOString().slice(0, 16)}Z, ${config.concurrency} in flight`),
    );
    console.log(`wrote scripts/bench/results/${stamp}${config.quick ? '-quick' : ''}.json, latest.json, latest.svg`);
    if (publishes(config)) {
      writeBenchmarkTable(fromRoot(BENCHMARK_PAGE), text);
      console.log(`wrote the table of ${BENCHMARK_PAGE}`);
    }
  }
}

main().catch(async (error: unknown) => {
  console.error(`bench failed: ${(error as Error).stack ?? (error as Error).message}`);
  process.exitCode = 1;
});
