/** One row of the bench's table, JSON and chart. */
export interface CaseResult {
  /** Stable key, used by the ratios: e.g. noop, pgbench-bare-64, reserve-hot. */
  id: string;
  /** Human label for the table and chart. */
  label: string;
  /** Larder itself, or a baseline it is measured against. */
  kind: 'larder' | 'baseline';
  /** Calls (or transactions) a second that succeeded. */
  rps: number;
  /** Latency of successful calls, ms (pgbench gives only an average: see note). */
  p50?: number;
  p99?: number;
  /** Failed calls (or transactions) in the window. */
  errors: number;
  /** Peak RSS of the processes under test, MB, by name. */
  rssMb: Record<string, number>;
  /** CPU ms per successful call in the window, by process (services, their PostgreSQL backends, the generator). */
  cpuMsPerCall?: Record<string, number>;
  /** Case-specific figures (confirmed/s, failed %, generator CPU …). */
  extra: Record<string, number>;
  note: string;
}

export const errorCount = (errors: Record<string, number>): number => Object.values(errors).reduce((sum, n) => sum + n, 0);

/** "FAILED_PRECONDITION×3 transport×1" style summary of grpc-status codes. */
export function describeErrors(errors: Record<string, number>): string {
  const names: Record<string, string> = {
    '1': 'CANCELLED',
    '4': 'DEADLINE',
    '8': 'EXHAUSTED',
    '9': 'PRECONDITION',
    '13': 'INTERNAL',
    '14': 'UNAVAILABLE',
    '16': 'UNAUTH',
  };
  return Object.entries(errors)
    .map(([code, n]) => `${names[code] ?? `code ${code}`}×${n}`)
    .join(' ');
}
