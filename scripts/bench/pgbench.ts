import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** sql/<name>: the bench's SQL scripts, in the repo next to its code and results. */
export const benchFile = (name: string): string => fileURLToPath(new URL(`./sql/${name}`, import.meta.url));

export interface PgbenchResult {
  /** Successful transactions a second (pgbench's tps counts only those). */
  tps: number;
  processed: number;
  failed: number;
  failedPercent: number;
  serializationFailures: number;
  latencyAvgMs: number;
  /** Clients pgbench gave up on after an error it does not retry (e.g. the server ran out of SSI conflict slots). */
  abortedClients: number;
}

/** Reads pgbench 15's summary; throws with the output when it has no tps line. */
export function parsePgbench(output: string): PgbenchResult {
  const number = (pattern: RegExp) => Number(pattern.exec(output)?.[1] ?? 0);
  const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(output);
  if (!tps) throw new Error(`pgbench printed no tps:\n${output}`);
  return {
    tps: Number(tps[1]),
    processed: number(/number of transactions actually processed: (\d+)/),
    failed: number(/number of failed transactions: (\d+)/),
    failedPercent: number(/number of failed transactions: \d+ \(([\d.]+)%\)/),
    serializationFailures: number(/number of serialization failures: (\d+)/),
    latencyAvgMs: number(/latency average = ([\d.]+) ms/),
    abortedClients: 0,
  };
}

/** `pgbench -n -f script -c N -j 2 -T secs`, with -D variables; failures are counted, not retried (--max-tries=1). */
export async function pgbench(
  url: string,
  script: string,
  clients: number,
  seconds: number,
  variables: Record<string, string | number> = {},
): Promise<PgbenchResult> {
  const args = ['-n', '-f', benchFile(script), '-c', String(clients), '-j', '2', '-T', String(Math.max(1, Math.round(seconds)))];
  for (const [name, value] of Object.entries(variables)) args.push('-D', `${name}=${value}`);
  args.push('--max-tries=1', '--failures-detailed', url);
  // Index scans on the tiny stock table, as on a real catalogue: a sequential scan under SERIALIZABLE takes a
  // whole-table SIREAD lock and turns every pair of concurrent checkouts into a serialization failure.
  const env = { ...process.env, PGOPTIONS: '-c enable_seqscan=off' };
  try {
    const { stdout } = await run('pgbench', args, { env, timeout: (seconds + 60) * 1000, maxBuffer: 16 * 1024 * 1024 });
    return parsePgbench(stdout);
  } catch (error) {
    // pgbench exits non-zero when it aborted clients; the survivors' summary still stands, with the count.
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    if (!stdout || !/tps = /.test(stdout)) throw error;
    const aborted = new Set([...(stderr ?? '').matchAll(/client (\d+) script \d+ aborted/g)].map((match) => match[1])).size;
    const firstError = /ERROR: +(.*)/.exec(stderr ?? '')?.[1];
    console.warn(`  pgbench aborted ${aborted} of ${clients} clients: ${firstError ?? 'see pgbench output'}`);
    return { ...parsePgbench(stdout), abortedClients: aborted };
  }
}

/** Runs one of sql/*.sql with psql (stop at the first error). */
export async function psqlFile(url: string, script: string, variables: Record<string, string | number> = {}): Promise<void> {
  const args = ['-q', '-v', 'ON_ERROR_STOP=1', '-f', benchFile(script)];
  for (const [name, value] of Object.entries(variables)) args.push('-v', `${name}=${value}`);
  await run('psql', [...args, url], { timeout: 120_000 });
}
