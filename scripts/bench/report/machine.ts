import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryGb: number;
  node: string;
  postgres: string;
  /** Load average when the run started: what else was running shows up here. */
  loadAverageAtStart: number[];
  /** The busiest other processes when the run started (not this bench's), by average CPU since they started. */
  busiestOtherProcesses: string[];
}

/** This process and its ancestors (npx, tsx): the bench itself, not "something else running". */
function ownLineage(): Set<number> {
  const pids = new Set<number>();
  for (let pid = process.pid; pid > 1 && !pids.has(pid);) {
    pids.add(pid);
    try {
      // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may hold spaces, so read after the last ')'.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      break;
    }
  }
  return pids;
}

function busiest(): string[] {
  try {
    // ps's %CPU is the average since each process started: a hint of what else ran, not a live reading.
    const out = execFileSync('ps', ['-eo', 'pid,pcpu,args', '--sort=-pcpu', '--no-headers'], { encoding: 'utf8' });
    const mine = ownLineage();
    return out
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter(([pid, cpu, command]) => pid && !mine.has(Number(pid)) && command !== 'ps' && Number(cpu) >= 5)
      .map(([, cpu, ...args]) => `${cpu} % ${args.join(' ')}`)
      .slice(0, 5)
      .map((line) => (line.length > 80 ? `${line.slice(0, 77)}…` : line));
  } catch {
    return [];
  }
}

/** The machine a run measured, for the JSON and docs/benchmark.md. */
export function describeMachine(postgresVersion: string): MachineInfo {
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    postgres: postgresVersion,
    loadAverageAtStart: loadavg().map((n) => Math.round(n * 100) / 100),
    busiestOtherProcesses: busiest(),
  };
}
