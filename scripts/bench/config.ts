/**
 * Every knob of `npm run bench`, read once from BENCH_* variables. Each one is
 * documented on docs/benchmark.md; keep the two in step.
 */
export interface BenchConfig {
  quick: boolean;
  /** Measured window of each load case, in seconds. */
  seconds: number;
  /** Discarded warm-up before each window (JIT, pools, caches). */
  warmupSeconds: number;
  /** Calls in flight from the load generator. */
  concurrency: number;
  /** pgbench window per client count, in seconds. */
  pgbenchSeconds: number;
  /** Products in the ListProducts catalogue (the issue's goal is stated at 1M). */
  catalogProducts: number;
  /** How long a checkout case waits after its window for accepted orders to settle. */
  drainSeconds: number;
  /** Case groups to run (all when empty): baselines, pgbench, reserve, checkout, list, scale. */
  cases: ReadonlySet<string>;
  /** Where the services write V8 CPU profiles (--cpu-prof) when they stop; unset: no profiling. */
  profileDir?: string;
  /**
   * BENCH_TRACING=1: the services run with OpenTelemetry tracing on (OTLP http/protobuf
   * to a local sink that drops the spans), to compare with the untraced default.
   */
  tracing: boolean;
  /** Write scripts/bench/results/*.json, latest.svg and the table of docs/benchmark.md (off for a trial run). */
  write: boolean;
}

export const CASE_GROUPS = ['baselines', 'pgbench', 'reserve', 'checkout', 'list', 'cache', 'scale'] as const;

function positive(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${text}"`);
  return value;
}

export function readBenchConfig(): BenchConfig {
  const quick = process.env.BENCH_QUICK === '1';
  const groups = (process.env.BENCH_CASES ?? '')
    .split(',')
    .map((group) => group.trim())
    .filter(Boolean);
  for (const group of groups) {
    if (!(CASE_GROUPS as readonly string[]).includes(group))
      throw new Error(`BENCH_CASES: unknown group "${group}" (${CASE_GROUPS.join(', ')})`);
  }
  return {
    quick,
    seconds: positive('BENCH_SECONDS', quick ? 2 : 10),
    warmupSeconds: positive('BENCH_WARMUP_SECONDS', quick ? 0.5 : 2),
    concurrency: Math.round(positive('BENCH_CONCURRENCY', 64)),
    pgbenchSeconds: positive('BENCH_PGBENCH_SECONDS', quick ? 1 : 10),
    catalogProducts: Math.round(positive('BENCH_CATALOG_PRODUCTS', 1_000_000)),
    drainSeconds: positive('BENCH_DRAIN_SECONDS', quick ? 10 : 60),
    cases: new Set(groups.length > 0 ? groups : CASE_GROUPS),
    write: process.env.BENCH_WRITE !== '0',
    profileDir: process.env.BENCH_PROFILE_DIR || undefined,
    tracing: process.env.BENCH_TRACING === '1',
  };
}
