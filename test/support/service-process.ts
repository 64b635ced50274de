import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { waitUntilServing } from '#libs/grpc/health-probe.js';
import { delay } from './free-port.js';

/**
 * A Larder service run as a real child process (node --import tsx main.ts),
 * for tests that need what only a process has: its own event loop, a SIGKILL,
 * a restart. Output goes to a log file so a failing test can be read after.
 */
export interface ServiceProcess {
  readonly port: number;
  readonly logFile: string;
  /**
   * Starts it (again) and waits until its health check says SERVING. `extraEnv`
   * applies to this start only (e.g. LARDER_CRASH_AT for one life of the process).
   */
  start(extraEnv?: Record<string, string>): Promise<void>;
  /** Resolves to the exit code or signal once the process exits by itself; rejects after timeoutMs. */
  exited(timeoutMs: number): Promise<string>;
  /** SIGTERM and wait for exit (graceful), or SIGKILL (crash). Resolves to the exit code/signal. */
  stop(signal?: NodeJS.Signals): Promise<string>;
  readonly running: boolean;
  /** The child's process id while it runs (the bench reads its RSS from /proc). */
  readonly pid: number | undefined;
}

export function serviceProcess(
  entry: string,
  port: number,
  env: Record<string, string>,
  logFile: string,
  /** Extra node flags (the bench's BENCH_PROFILE_DIR passes --cpu-prof). */
  nodeArgs: readonly string[] = [],
): ServiceProcess {
  let child: ChildProcess | undefined;
  let log: WriteStream | undefined;
  return {
    port,
    logFile,
    get running() {
      return Boolean(child && child.exitCode === null && child.signalCode === null);
    },
    get pid() {
      return child?.pid;
    },
    async start(extraEnv = {}) {
      log ??= createWriteStream(logFile, { flags: 'a' });
      const proc = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', entry], {
        env: { ...process.env, ...env, ...extraEnv, GRPC_HOST: '127.0.0.1', GRPC_PORT: String(port) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      proc.stdout!.pipe(log, { end: false });
      proc.stderr!.pipe(log, { end: false });
      child = proc;
      const exited = new Promise<never>((_, reject) =>
        proc.once('exit', (code, signal) => reject(new Error(`${entry} exited (${signal ?? code}) while starting; see ${logFile}`))),
      );
      exited.catch(() => undefined);
      const serving = waitUntilServing(`127.0.0.1:${port}`, 30_000).then((ok) => {
        if (!ok) throw new Error(`service on port ${port} did not report SERVING within 30 s; see ${logFile}`);
      });
      await Promise.race([serving, exited]);
    },
    async exited(timeoutMs) {
      const proc = child;
      if (!proc) throw new Error(`${entry} was never started`);
      if (proc.exitCode !== null || proc.signalCode !== null) return String(proc.signalCode ?? proc.exitCode);
      const exit = new Promise<string>((resolve) => proc.once('exit', (code, sig) => resolve(String(sig ?? code))));
      const result = await Promise.race([exit, delay(timeoutMs).then(() => undefined)]);
      if (result === undefined) throw new Error(`${entry} (pid ${proc.pid}) still running after ${timeoutMs} ms; see ${logFile}`);
      return result;
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      const proc = child;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return 'not running';
      const exited = new Promise<string>((resolve) => proc.once('exit', (code, sig) => resolve(String(sig ?? code))));
      proc.kill(signal);
      const result = await Promise.race([exited, delay(20_000).then(() => 'timeout')]);
      if (result === 'timeout') {
        proc.kill('SIGKILL');
        return `${await exited} (forced after 20 s)`;
      }
      return result;
    },
  };
}
