import { availableParallelism } from 'node:os';
import type { CaseResult } from '../result.js';
import type { GoalCheck } from './goals.js';

const ms = (value: number | undefined) => (value === undefined ? '–' : value < 10 ? value.toFixed(2) : value.toFixed(1));
const rss = (byName: Record<string, number>) =>
  Object.entries(byName)
    .map(([name, mb]) => `${name} ${mb.toFixed(0)}`)
    .join(', ') || '–';

const cpu = (byName: Record<string, number> | undefined) =>
  byName
    ? Object.entries(byName)
        .map(([name, perCall]) => `${name} ${perCall.toFixed(2)}`)
        .join(', ')
    : '–';

/**
 * The most calls a second this machine could do for the case if all its cores
 * did nothing else: core-milliseconds a second over the CPU every process spent
 * per call. Only an upper bound (locks, waits and other load leave cores idle),
 * but it does not move with the machine's other load as throughput does, and it
 * says how far a goal is from what the case's work allows here.
 */
export function cpuCeiling(cpuMsPerCall: Record<string, number> | undefined, cores = availableParallelism()): number | undefined {
  const total = Object.values(cpuMsPerCall ?? {}).reduce((sum, perCall) => sum + perCall, 0);
  return total > 0 ? (cores * 1000) / total : undefined;
}

function markdown(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** The cases, one row each: throughput, latency, errors, CPU per call, RSS. Markdown, for the terminal and docs/benchmark.md alike. */
export function casesTable(results: readonly CaseResult[]): string {
  return markdown(
    ['case', 'ok/s', 'p50 ms', 'p99 ms', 'errors', 'CPU ms per call', 'CPU ceiling /s', 'peak RSS MB', 'notes'],
    results.map((r) => [
      r.label,
      r.rps.toFixed(0),
      ms(r.p50),
      ms(r.p99),
      String(r.errors),
      cpu(r.cpuMsPerCall),
      cpuCeiling(r.cpuMsPerCall)?.toFixed(0) ?? '–',
      rss(r.rssMb),
      r.note || '',
    ]),
  );
}

const figure = (check: GoalCheck) =>
  check.value === undefined
    ? 'not run'
    : check.unit === '×'
      ? `${check.value.toPrecision(3)}×`
      : check.unit === 'failed'
        ? String(check.value)
        : check.unit === '/s'
          ? `${check.value.toFixed(0)}/s`
          : `${check.value.toFixed(1)} ${check.unit}`;

/** The goals of issue 8 with this run's figure and whether it is met. */
export function goalsTable(checks: readonly GoalCheck[]): string {
  return markdown(
    ['goal', 'this run', 'target', 'met'],
    checks.map((c) => [c.goal, figure(c), c.target, c.met === undefined ? '–' : c.met ? 'yes' : '**no**']),
  );
}
