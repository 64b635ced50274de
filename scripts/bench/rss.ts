import { readFileSync } from 'node:fs';

/** Resident set size of a process in MB, from /proc/<pid>/status (undefined once it is gone). */
export function rssMb(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Samples the RSS of some processes every 250 ms; stop() gives each one's peak in MB. */
export function sampleRss(pids: Record<string, number | undefined>): { stop(): Record<string, number> } {
  const peak: Record<string, number> = {};
  const sample = () => {
    for (const [name, pid] of Object.entries(pids)) {
      const mb = pid === undefined ? undefined : rssMb(pid);
      if (mb !== undefined) peak[name] = Math.max(peak[name] ?? 0, mb);
    }
  };
  sample();
  const timer = setInterval(sample, 250);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}
