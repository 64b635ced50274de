import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { delay, freePort, waitForPort } from './free-port.js';
import { TEST_DATABASE_SERVER } from './test-database.js';

const PGBOUNCER_BIN = process.env.PGBOUNCER_BIN ?? '/usr/sbin/pgbouncer';

export interface PgBouncerOptions {
  /** Server connections per (database, user) pair: pgbouncer's default_pool_size (default 20). */
  defaultPoolSize?: number;
  /** Client connections pgbouncer accepts in all (default 500). */
  maxClientConn?: number;
  /** The PostgreSQL server behind it (default: the tests' server, TEST_DATABASE_URL). */
  server?: string;
}

/**
 * A PgBouncer of our own, in transaction pooling mode, for one test file: every
 * database on the test server is reachable through it (a `*` entry), so a test
 * points a service at it by rewriting host and port of its DATABASE_URL (route).
 */
export interface ThrowawayPgBouncer {
  port: number;
  /** The same database URL, through this pooler. */
  route(databaseUrl: string): string;
  /** Runs one statement on the admin console (SHOW POOLS, SHOW STATS…); its rows. */
  admin<Row = Record<string, unknown>>(command: string): Promise<Row[]>;
  /** What pgbouncer has written to its log so far (for failure messages). */
  log(): string;
  /** Stops the process (SIGTERM, then SIGKILL) and deletes its directory. */
  destroy(): Promise<void>;
}

/**
 * The ini: transaction pooling, trust authentication (the test server trusts
 * loopback too) with the one user in an auth_file, as PgBouncer's trust mode
 * still looks the user up there. No unix socket, loopback only.
 */
function iniFor(port: number, dir: string, server: URL, options: PgBouncerOptions): string {
  return [
    '[databases]',
    `* = host=${server.hostname} port=${server.port || 5432}`,
    '',
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${port}`,
    'unix_socket_dir =',
    'auth_type = trust',
    `auth_file = ${join(dir, 'users.txt')}`,
    `admin_users = ${decodeURIComponent(server.username) || 'postgres'}`,
    'pool_mode = transaction',
    `max_client_conn = ${options.maxClientConn ?? 500}`,
    `default_pool_size = ${options.defaultPoolSize ?? 20}`,
    // Only run in session mode (server_reset_query_always = 0): transaction mode
    // relies on the client leaving no session state behind (docs/scaling.md, PgBouncer).
    'server_reset_query = DISCARD ALL',
    // Client drivers send these; PgBouncer refuses unknown startup parameters.
    'ignore_startup_parameters = extra_float_digits,options',
    '',
  ].join('\n');
}

export async function startThrowawayPgBouncer(options: PgBouncerOptions = {}): Promise<ThrowawayPgBouncer> {
  const server = new URL(options.server ?? TEST_DATABASE_SERVER);
  const user = decodeURIComponent(server.username) || 'postgres';
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'larder-pgbouncer-'));
  const logPath = join(dir, 'pgbouncer.log');
  await writeFile(join(dir, 'users.txt'), `"${user}" ""\n`);
  await writeFile(join(dir, 'pgbouncer.ini'), iniFor(port, dir, server, options));
  // PgBouncer refuses to run as root ("PgBouncer should not run as root"): as
  // root it drops to the postgres system user (-u), which must still be able to
  // read its files when it re-reads them (SIGHUP).
  const asRoot = process.getuid?.() === 0;
  if (asRoot) await chmod(dir, 0o755);
  const logFd = openSync(logPath, 'a');
  let child: ChildProcess | undefined;
  try {
    child = spawn(PGBOUNCER_BIN, [...(asRoot ? ['-u', 'postgres'] : []), join(dir, 'pgbouncer.ini')], {
      stdio: ['ignore', logFd, logFd],
    });
  } finally {
    closeSync(logFd);
  }
  const proc = child;
  const log = () => {
    try {
      return readFileSync(logPath, 'utf8');
    } catch {
      return '';
    }
  };

  async function stop(): Promise<void> {
    if (proc.exitCode !== null || proc.signalCode !== null || proc.pid === undefined) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    process.kill(proc.pid, 'SIGTERM');
    await Promise.race([exited, delay(5_000)]);
    if (proc.exitCode === null && proc.signalCode === null) {
      process.kill(proc.pid, 'SIGKILL');
      await Promise.race([exited, delay(2_000)]);
    }
  }
  const destroy = async () => {
    await stop();
    await rm(dir, { recursive: true, force: true });
  };

  try {
    const exitedEarly = new Promise<never>((_, reject) =>
      proc.once('exit', (code) => reject(new Error(`pgbouncer exited (${code}) before accepting connections:\n${log()}`))),
    );
    exitedEarly.catch(() => undefined);
    await Promise.race([waitForPort(port, 10_000, 'pgbouncer'), exitedEarly]);
  } catch (error) {
    await destroy();
    throw error;
  }

  return {
    port,
    route(databaseUrl) {
      const url = new URL(databaseUrl);
      url.hostname = '127.0.0.1';
      url.port = String(port);
      return url.toString();
    },
    async admin<Row>(command: string) {
      // The admin console speaks only the simple query protocol: a text without parameters.
      const client = new pg.Client({ host: '127.0.0.1', port, user, database: 'pgbouncer' });
      await client.connect();
      try {
        return (await client.query(command)).rows as Row[];
      } finally {
        await client.end();
      }
    },
    log,
    destroy,
  };
}
