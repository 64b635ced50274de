import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { delay, freePort, waitForPort } from './free-port.js';

const NATS_SERVER_BIN = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server';

/**
 * A nats-server of our own for one test file, so tests can stop and restart the
 * broker without touching the shared one on 4222, and stream names never collide
 * with other runs. stop()/start() keep the port and the JetStream store directory,
 * like a broker restart in production.
 */
export interface ThrowawayNatsServer {
  url: string;
  port: number;
  storeDir: string;
  /**
   * Stops the process and waits for it to exit. SIGTERM by default: nats-server
   * acknowledges publishes before its file store has written them, so SIGKILL can
   * lose acknowledged messages — a broker property (PostgreSQL is the source of
   * truth), not something a relay test can assert around.
   */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port with the same store; `jetstream` as at the first start unless given. */
  start(options?: { jetstream?: boolean }): Promise<void>;
  /** stop() and delete the store directory. */
  destroy(): Promise<void>;
}

/** `jetstream: false` starts a plain NATS server: every JetStream API request gets no responders (503). */
export async function startThrowawayNatsServer(options: { jetstream?: boolean } = {}): Promise<ThrowawayNatsServer> {
  const port = await freePort();
  const storeDir = await mkdtemp(join(tmpdir(), 'larder-nats-'));
  let child: ChildProcess | undefined;
  let jetstream = options.jetstream ?? true;

  async function start(again: { jetstream?: boolean } = {}): Promise<void> {
    if (child) return;
    jetstream = again.jetstream ?? jetstream;
    const proc = spawn(NATS_SERVER_BIN, [...(jetstream ? ['-js'] : []), '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir], {
      stdio: 'ignore',
    });
    child = proc;
    proc.once('exit', () => {
      if (child === proc) child = undefined;
    });
    await waitForPort(port, 10_000, 'nats-server');
  }

  async function stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.pid === undefined) {
      child = undefined;
      return;
    }
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    process.kill(proc.pid, signal);
    await Promise.race([exited, delay(5_000)]);
    if (proc.exitCode === null && proc.signalCode === null) {
      process.kill(proc.pid, 'SIGKILL');
      await Promise.race([exited, delay(2_000)]);
    }
    child = undefined;
  }

  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    stop,
    start,
    async destroy() {
      await stop('SIGKILL');
      await rm(storeDir, { recursive: true, force: true });
    },
  };
}
