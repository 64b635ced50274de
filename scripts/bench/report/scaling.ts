import { availableParallelism } from 'node:os';
import type { PgConnections } from '../pg-connections.js';
import type { CaseResult } from '../result.js';
import type { GoalCheck } from './goals.js';
import { chartValue } from './svg.js';
import { cpuCeiling } from './table.js';

/** CPU ms per call by process group: the Larder services (every replica), their PostgreSQL backends, the load generator. */
export interface CpuSplit {
  services: number;
  postgres: number;
  generator: number;
}

export function cpuSplit(cpuMsPerCall: Record<string, number> | undefined): CpuSplit {
  const split: CpuSplit = { services: 0, postgres: 0, generator: 0 };
  for (const [name, ms] of Object.entries(cpuMsPerCall ?? {})) {
    if (name === 'postgres' || name === 'generator') split[name] += ms;
    else split.services += ms;
  }
  return split;
}

/**
 * Calls a second that PostgreSQL's own work per call allows on `cores` cores
 * of its own, however many service replicas run elsewhere: 1000 ms per core
 * over its CPU ms per call. An upper bound (lock waits, WAL flushes and the
 * server's background processes come on top).
 */
export const postgresCeiling = (postgresMsPerCall: number, cores = 1): number | undefined =>
  postgresMsPerCall > 0 ? (cores * 1000) / postgresMsPerCall : undefined;

/** Adds the scale case's figures to a result: its CPU split, PostgreSQL's share and ceiling, the connections it used. */
export function scaleFigures(result: CaseResult, connections: PgConnections, poolMax: number): CaseResult {
  const split = cpuSplit(result.cpuMsPerCall);
  const total = split.services + split.postgres + split.generator;
  const share = total > 0 ? split.postgres / total : 0;
  result.extra = {
    ...result.extra,
    servicesCpuMsPerCall: split.services,
    postgresCpuMsPerCall: split.postgres,
    generatorCpuMsPerCall: split.generator,
    postgresCpuShare: share,
    postgresCeilingPerCore: postgresCeiling(split.postgres) ?? 0,
    pgPoolMax: poolMax,
    pgConnectionsOpenMax: connections.openMax,
    pgConnectionsBusyMean: connections.busyMean,
  };
  result.note = [
    `services ${split.services.toFixed(2)} + postgres ${split.postgres.toFixed(2)} ms (${(share * 100).toFixed(0)} % postgres)`,
    `pg connections ≤ ${connections.openMax} open of ${poolMax} pooled, ${connections.busyMean.toFixed(1)} busy`,
    result.note,
  ]
    .filter(Boolean)
    .join(', ');
  return result;
}

/** The scale case's two workloads, each a row per replica count (ids scale-<workload>-<replicas>). */
const WORKLOADS = [
  { key: 'reserve', name: 'ReserveStock 200 products', per: 'ok/s' },
  { key: 'checkout', name: 'checkout 200 products', per: 'confirmed/s' },
] as const;

/** One workload's figures at 1 and 2 replicas, for the JSON (undefined when the case did not run). */
export function scalingSummary(results: readonly CaseResult[], cores = availableParallelism()) {
  const byId = new Map(results.map((r) => [r.id, r]));
  const entries = WORKLOADS.map(({ key }) => {
    const one = byId.get(`scale-${key}-1`);
    const two = byId.get(`scale-${key}-2`);
    if (!one || !two) return undefined;
    const row = (r: CaseResult) => ({
      throughput: chartValue(r),
      p50: r.p50,
      p99: r.p99,
      cpuMsPerCall: cpuSplit(r.cpuMsPerCall),
      cpuCeiling: cpuCeiling(r.cpuMsPerCall, cores),
      postgresCpuShare: r.extra.postgresCpuShare,
      pgPoolMax: r.extra.pgPoolMax,
      pgConnectionsOpenMax: r.extra.pgConnectionsOpenMax,
      pgConnectionsBusyMean: r.extra.pgConnectionsBusyMean,
    });
    const postgres = cpuSplit(two.cpuMsPerCall).postgres;
    return [
      key,
      {
        replicas: { 1: row(one), 2: row(two) },
        ratio: chartValue(one) > 0 ? chartValue(two) / chartValue(one) : undefined,
        postgresCeilingPerCore: postgresCeiling(postgres),
        postgresCeilingOnThisMachine: postgresCeiling(postgres, cores),
      },
    ] as const;
  });
  return Object.fromEntries(entries.filter((entry) => entry !== undefined));
}

/** Informational lines of the goals table (no target): what a second replica bought, and where PostgreSQL stops. */
export function scalingChecks(results: readonly CaseResult[]): GoalCheck[] {
  const summary = scalingSummary(results);
  const info = (goal: string, value: number | undefined, unit: GoalCheck['unit']): GoalCheck => ({
    goal,
    value,
    unit,
    target: 'informational',
  });
  return WORKLOADS.flatMap(({ key, name, per }) => {
    const s = summary[key];
    return [
      info(`scale: ${name}, 2 replicas / 1 replica (${per})`, s?.ratio, '×'),
      info(`scale: ${name}, PostgreSQL share of CPU per call (2 replicas)`, s && 100 * (s.replicas[2].postgresCpuShare ?? 0), '%'),
      info(`scale: ${name}, calls/s one PostgreSQL core allows (1000 / its ms per call)`, s?.postgresCeilingPerCore, '/s'),
    ];
  });
}
