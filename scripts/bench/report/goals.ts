import type { CaseResult } from '../result.js';

/** One goal of issue 8, as measured in this run. */
export interface GoalCheck {
  goal: string;
  /** The measured figure (a ratio, ms, MB, a share or a rate); undefined when its cases did not run. */
  value?: number;
  unit: '×' | 'ms' | 'MB' | 'failed' | '%' | '/s';
  target: string;
  /** Whether the target is met; undefined when not measured, or for an informational line without a target. */
  met?: boolean;
}

/**
 * The goals of issue 8, each a ratio between cases of this one run (same
 * machine, generator and concurrency), or a bound on latency, failures or RSS.
 */
export function checkGoals(results: readonly CaseResult[]): GoalCheck[] {
  const byId = new Map(results.map((result) => [result.id, result]));
  const rps = (id: string) => byId.get(id)?.rps;
  const confirmed = (id: string) => byId.get(id)?.extra.confirmedPerSecond;
  const bestBare = Math.max(...results.filter((r) => r.id.startsWith('pgbench-bare-')).map((r) => r.rps));
  /** a / b against a lower bound (or an upper one: `{ max }`). */
  const ratio = (goal: string, a: number | undefined, b: number | undefined, bound: { min: number } | { max: number }): GoalCheck => {
    const value = a !== undefined && b !== undefined && b > 0 && Number.isFinite(b) ? a / b : undefined;
    const [target, ok] =
      'min' in bound ? [`≥ ${bound.min}×`, (v: number) => v >= bound.min] : [`≤ ${bound.max}×`, (v: number) => v <= bound.max];
    return { goal, value, unit: '×', target, met: value === undefined ? undefined : ok(value) };
  };
  const atMost = (goal: string, value: number | undefined, max: number, unit: GoalCheck['unit']): GoalCheck => ({
    goal,
    value,
    unit,
    target: unit === 'failed' ? `${max}` : `≤ ${max} ${unit}`,
    met: value === undefined ? undefined : value <= max,
  });
  const checkoutIds = ['checkout-200', 'checkout-hot'].filter((id) => byId.has(id));
  const listP50 = (key: string) => byId.get(`list-${key}`)?.p50;
  const firstPage = listP50('first');
  // CPU per call of the inventory process and its PostgreSQL backends together (the catalog cache's goals, routed ReserveStock's).
  const serverCpu = (id: string) => {
    const cpu = byId.get(id)?.cpuMsPerCall;
    return cpu ? (cpu.inventory ?? 0) + (cpu.postgres ?? 0) : undefined;
  };
  const services = results.filter((r) => r.kind === 'larder').flatMap((r) => Object.values(r.rssMb));
  return [
    ratio('ReserveStock 200 products / no-op server rps', rps('reserve-200'), rps('noop'), { min: 0.5 }),
    ratio('ReserveStock hot / no-op server rps', rps('reserve-hot'), rps('noop'), { min: 0.5 }),
    ratio('ReserveStock hot / pgbench bare UPDATE at 64 clients', rps('reserve-hot'), rps('pgbench-bare-64'), { min: 1.5 }),
    ratio('ReserveStock hot / pgbench bare UPDATE at its best client count', rps('reserve-hot'), bestBare, { min: 0.5 }),
    ratio(
      'ReserveStock routed, 200 products × 4 locations / single-location: CPU per call',
      serverCpu('reserve-routed-200'),
      serverCpu('reserve-200'),
      {
        max: 1.3,
      },
    ),
    ratio('ReserveStock routed hot, 4 locations / pgbench bare UPDATE at 64 clients', rps('reserve-routed-hot'), rps('pgbench-bare-64'), {
      min: 1.5,
    }),
    ratio('checkout confirmed/s, 200 products / classic tps at 64 clients', confirmed('checkout-200'), rps('classic-200-64'), {
      min: 0.25,
    }),
    ratio('checkout confirmed/s, hot / classic successful tps at 64 clients', confirmed('checkout-hot'), rps('classic-hot-64'), { min: 1 }),
    atMost(
      'checkout failed (both shapes)',
      checkoutIds.length ? checkoutIds.reduce((n, id) => n + byId.get(id)!.errors, 0) : undefined,
      0,
      'failed',
    ),
    atMost(
      'checkout accept p99 (worse shape)',
      checkoutIds.length ? Math.max(...checkoutIds.map((id) => byId.get(id)!.p99 ?? 0)) : undefined,
      100,
      'ms',
    ),
    atMost('ListProducts first page p50', firstPage, 10, 'ms'),
    ratio('ListProducts deep page p50 / first page p50', listP50('deep'), firstPage, { max: 1.5 }),
    atMost('ListProducts name search p50', listP50('search'), 20, 'ms'),
    ratio('GetProduct calls/s, catalog cache warm / off', rps('cache-get-warm'), rps('cache-get-off'), { min: 3 }),
    ratio('GetProduct CPU ms per call, catalog cache warm / off', serverCpu('cache-get-warm'), serverCpu('cache-get-off'), { max: 0.34 }),
    ratio('ListProducts first page calls/s, catalog cache warm / off', rps('cache-first-page-warm'), rps('cache-first-page-off'), {
      min: 3,
    }),
    ratio(
      'ListProducts first page CPU ms per call, catalog cache warm / off',
      serverCpu('cache-first-page-warm'),
      serverCpu('cache-first-page-off'),
      {
        max: 0.34,
      },
    ),
    atMost('largest service RSS under load', services.length ? Math.max(...services) : undefined, 200, 'MB'),
  ];
}
