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

/** CPU ms of every PostgreSQL backend connected to one of `databases` (its title names the database), by pid. */
function postgresCpuMs(databases: readonly string[]): Map<number, number> {
  const byPid = new Map<number, number>();
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
    const ms = databases.some((db) => words.includes(db)) ? processCpuMs(Number(entry)) : undefined;
    if (ms !== undefined) byPid.set(Number(entry), ms);
  }
  return byPid;
}

export interface CpuSnapshot {
  byName: Record<string, number>;
  /** PostgreSQL backends by pid: a backend that ended in the window took its time with it, so only pids in both snapshots count. */
  postgres: Map<number, number>;
}

export function cpuSnapshot(pids: Record<string, number | undefined>, databases: readonly string[]): CpuSnapshot {
  const byName: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) {
    const ms = pid === undefined ? undefined : processCpuMs(pid);
    if (ms !== undefined) byName[name] = ms;
  }
  return { byName, postgres: databases.length > 0 ? postgresCpuMs(databases) : new Map() };
}

/**
 * CPU ms per successful call, by process, between two snapshots. Backends
 * that connected or ended during the window are left out (pools are warm by
 * then, so that is rare).
 */
export function cpuPerCall(start: CpuSnapshot, end: CpuSnapshot, calls: number): Record<string, number> {
  const perCall: Record<string, number> = {};
  if (calls <= 0) return perCall;
  for (const [name, ms] of Object.entries(end.byName)) perCall[name] = (ms - (start.byName[name] ?? 0)) / calls;
  if (end.postgres.size > 0) {
    let spent = 0;
    for (const [pid, ms] of end.postgres) spent += ms - (start.postgres.get(pid) ?? ms);
    perCall.postgres = spent / calls;
  }
  return perCall;
}
