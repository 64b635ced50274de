import { execFile } from 'node:child_process';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';

const run = promisify(execFile);
const BIN = process.env.PG_BIN_DIR ?? '/usr/lib/postgresql/15/bin';

/**
 * A PostgreSQL cluster of our own on a free port, for tests that must stop the
 * database (never the shared one). initdb refuses to run as root, so as root
 * it runs as the `postgres` system user, which owns the data directory.
 */
export interface ThrowawayPostgres {
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

async function asPostgresUser(command: string, args: string[]): Promise<void> {
  if (process.getuid?.() === 0) await run('/usr/sbin/runuser', ['-u', 'postgres', '--', command, ...args]);
  else await run(command, args);
}

export async function startThrowawayPostgres(): Promise<ThrowawayPostgres> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'larder-pg-'));
  const dataDir = join(dir, 'data');
  if (process.getuid?.() === 0) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  await asPostgresUser(join(BIN, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
  const running = () =>
    asPostgresUser(join(BIN, 'pg_ctl'), ['-D', dataDir, 'status']).then(
      () => true,
      () => false,
    );
  const start = async () => {
    if (await running()) return;
    await asPostgresUser(join(BIN, 'pg_ctl'), [
      '-D',
      dataDir,
      '-w',
      '-l',
      join(dir, 'log'),
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      'start',
    ]);
  };
  const stop = () => asPostgresUser(join(BIN, 'pg_ctl'), ['-D', dataDir, '-w', '-m', 'immediate', 'stop']).catch(() => undefined);
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start,
    stop,
    async destroy() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
