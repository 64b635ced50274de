import { readdirSync, readFileSync } from 'node:fs';

/**
 * Where a case's CPU goes: user + system time of each process under test and
 * of the PostgreSQL backends serving the case's databases, read from /proc at
 * the start and the end of the measured window. Divided by the calls that
 * succeeded in the window it is "CPU ms per call" per process, which a shared,
 * noisy machine does not distort the way it distorts a throughput figure.
 */

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux everywhere this runs). */
const TICKS_PER_SECOND = 100;

/** utime + stime of one process in ms, or undefined once it is gone. */
function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: the fields after it start past its ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** CPU ms of every PostgreSQL backend connected to one of `databases` (its title names the database). */
function postgresCpuMs(databases: readonly string[]): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let title: string;
    try {
      title = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    // e.g. "postgres: 15/main: postgres bench_reserve_test_x 127.0.0.1(51234) idle"
    if (!title.startsWith('postgres:')) continue;
    const words = title.split(/\s+/);
    if (databases.some((db) => words.includes(db))) total += processCpuMs(Number(entry)) ?? 0;
  }
  return total;
}

export interface CpuSnapshot {
  byName: Record<string, number>;
}

export function cpuSnapshot(pids: Record<string, number | undefined>, databases: readonly string[]): CpuSnapshot {
  const byName: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) {
    const ms = pid === undefined ? undefined : processCpuMs(pid);
    if (ms !== undefined) byName[name] = ms;
  }
  if (databases.length > 0) byName.postgres = postgresCpuMs(databases);
  return { byName };
}

/**
 * CPU ms per successful call, by process, between two snapshots. A backend
 * that connected during the window counts all its time (at most its own
 * connect): pools are warm by then.
 */
export function cpuPerCall(start: CpuSnapshot, end: CpuSnapshot, calls: number): Record<string, number> {
  const perCall: Record<string, number> = {};
  if (calls <= 0) return perCall;
  for (const [name, ms] of Object.entries(end.byName)) perCall[name] = (ms - (start.byName[name] ?? 0)) / calls;
  return perCall;
}
