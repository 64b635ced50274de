import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { parse, stringify } from 'yaml';
import { delay, freePort, waitForPort } from './free-port.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The operator examples this helper runs (docs/database-failover.md): only addresses, ports, directories and timings change. */
export const PATRONI_TEMPLATE = join(ROOT, 'deploy/patroni/patroni.yml');
export const HAPROXY_TEMPLATE = join(ROOT, 'deploy/haproxy/haproxy.cfg');

const PATRONI_BIN = process.env.PATRONI_BIN ?? '/usr/bin/patroni';
const ETCD_BIN = process.env.ETCD_BIN ?? '/usr/bin/etcd';
const HAPROXY_BIN = process.env.HAPROXY_BIN ?? '/usr/sbin/haproxy';
const PG_BIN_DIR = process.env.PG_BIN_DIR ?? '/usr/lib/postgresql/15/bin';
/** PostgreSQL and so Patroni refuse root: as root, Patroni runs as this system user (it owns the node directories). */
const PG_USER = 'postgres';

/**
 * The timings the tests use instead of the example's 30/10/10 (a failover in
 * about 10 s instead of 30-40 s); loop_wait + 2 * retry_timeout <= ttl holds.
 */
export const TEST_TIMINGS = { ttl: 10, loop_wait: 2, retry_timeout: 4 } as const;

/** A member as Patroni's GET /cluster lists it. */
export interface Member {
  name: string;
  /** 'leader', 'sync_standby' or 'replica'. */
  role: string;
  /** 'running', 'streaming', 'starting', 'stopped', 'crashed', … */
  state: string;
  timeline?: number;
  lag?: number | string;
}

export interface PatroniNode {
  readonly name: string;
  /** The node's PostgreSQL, directly (not through HAProxy). */
  readonly port: number;
  /** Patroni's REST API. */
  readonly apiPort: number;
  readonly dataDir: string;
  readonly logFile: string;
  /** True while its Patroni process runs. */
  readonly running: boolean;
}

/**
 * One etcd (v2 API), three PostgreSQL nodes under Patroni with
 * synchronous_mode, and HAProxy sending connections to the node that answers
 * GET /primary — deploy/patroni/patroni.yml and deploy/haproxy/haproxy.cfg on
 * loopback, free ports and a throwaway directory (kept until stop(), with every
 * process's log, for reading after a failure).
 */
export interface PatroniCluster {
  readonly nodes: readonly PatroniNode[];
  /** postgres:// URL of the `postgres` database through HAProxy's read-write port. */
  readonly url: string;
  /** HAProxy's read-write port. */
  readonly primaryPort: number;
  readonly dir: string;
  /** The node index named `name`. */
  indexOf(name: string): number;
  /** The members as a running node's Patroni sees them (GET /cluster); [] when none answers. */
  members(): Promise<Member[]>;
  /** The name of the member whose role is `role` now, if one is. */
  memberWith(role: 'leader' | 'sync_standby'): Promise<string | undefined>;
  /** Waits until `role` is held by a member that is running, not in `exclude`; its name. */
  waitForRole(role: 'leader' | 'sync_standby', options?: { exclude?: readonly string[]; timeoutMs?: number }): Promise<string>;
  /** SIGKILL to the node's Patroni and its postmaster (a crash of the whole server); resolves once both are gone. */
  kill(node: number): Promise<void>;
  /** Starts the node's Patroni again on its data directory; resolves once it streams from the leader as a replica. */
  restart(node: number, timeoutMs?: number): Promise<void>;
  /**
   * SIGKILL to HAProxy and a new one on the same port: every connection through
   * it is cut, and the new one counts every server up until its checks say
   * otherwise (about two seconds in which connections may land on a replica).
   * Resolves once it listens.
   */
  restartProxy(): Promise<void>;
  /** Lines of the node's Patroni log that match `pattern` (e.g. /pg_rewind/). */
  logLines(node: number, pattern: RegExp): string[];
  /** Kills every process (by PID) and removes the directory. */
  stop(): Promise<void>;
}

interface NodeState {
  name: string;
  port: number;
  apiPort: number;
  dir: string;
  configFile: string;
  logFile: string;
  child?: ChildProcess;
}

/** Whole starts tried before giving up (a port taken meanwhile, a slow machine), each on fresh ports. */
const START_ATTEMPTS = 2;

export async function startPatroniCluster(options: { readyTimeoutMs?: number } = {}): Promise<PatroniCluster> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startOnce(options.readyTimeoutMs ?? 90_000);
    } catch (error) {
      if (attempt >= START_ATTEMPTS) throw error;
      console.warn(
        `      Patroni cluster start ${attempt} of ${START_ATTEMPTS} failed, retrying on new ports: ${(error as Error).message}`,
      );
    }
  }
}

const asRoot = () => process.getuid?.() === 0;

async function pgUserIds(): Promise<{ uid: number; gid: number }> {
  const [{ stdout: uid }, { stdout: gid }] = await Promise.all([run('id', ['-u', PG_USER]), run('id', ['-g', PG_USER])]);
  return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
}

/** The node's Patroni configuration: the example with this node's addresses, directories and the tests' timings. */
/** The parts of a Patroni configuration file this helper reads or sets. */
interface PatroniFile {
  name: string;
  restapi: Record<string, unknown>;
  etcd: Record<string, unknown>;
  bootstrap: { dcs: Record<string, unknown> };
  postgresql: { parameters?: Record<string, unknown>; [setting: string]: unknown };
  [setting: string]: unknown;
}

export function patroniConfigFor(
  template: string,
  node: { name: string; port: number; apiPort: number; dir: string },
  etcdPort: number,
): PatroniFile {
  const config = parse(template) as PatroniFile;
  config.name = node.name;
  config.restapi = { ...config.restapi, listen: `127.0.0.1:${node.apiPort}`, connect_address: `127.0.0.1:${node.apiPort}` };
  config.etcd = { host: `127.0.0.1:${etcdPort}`, protocol: 'http' };
  Object.assign(config.bootstrap.dcs, TEST_TIMINGS);
  const postgresql = config.postgresql;
  postgresql.listen = `127.0.0.1:${node.port}`;
  postgresql.connect_address = `127.0.0.1:${node.port}`;
  postgresql.data_dir = join(node.dir, 'data');
  postgresql.bin_dir = PG_BIN_DIR;
  postgresql.pgpass = join(node.dir, 'pgpass');
  // Loopback only, without passwords: the example's networks and scram do not apply on one machine.
  postgresql.pg_hba = ['local all all trust', 'host replication all 127.0.0.1/32 trust', 'host all all 127.0.0.1/32 trust'];
  // Sockets in the node's own directory; fsync off for speed (a killed process, not a lost machine, is what the tests do).
  postgresql.parameters = { ...postgresql.parameters, unix_socket_directories: node.dir, fsync: 'off' };
  return config;
}

/** The HAProxy configuration: the example with the bind on loopback and its three servers pointed at the nodes. */
export function haproxyConfigFor(template: string, port: number, nodes: readonly { port: number; apiPort: number }[]): string {
  let server = 0;
  const lines = template.split('\n').map((line) => {
    if (/^\s*bind\s/.test(line)) return line.replace(/bind\s+\S+/, `bind 127.0.0.1:${port}`);
    const match = /^(\s*server\s+\S+\s+)\S+(.*\bcheck port )\d+(.*)$/.exec(line);
    if (!match) return line;
    const node = nodes[server++];
    if (!node) throw new Error(`${HAPROXY_TEMPLATE} has more server lines than the cluster has nodes`);
    return `${match[1]}127.0.0.1:${node.port}${match[2]}${node.apiPort}${match[3]}`;
  });
  if (server !== nodes.length) throw new Error(`${HAPROXY_TEMPLATE} has ${server} server lines, the cluster ${nodes.length} nodes`);
  return lines.join('\n');
}

async function startOnce(readyTimeoutMs: number): Promise<PatroniCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'larder-patroni-'));
  const ids = asRoot() ? await pgUserIds() : undefined;
  if (ids) await chown(dir, ids.uid, ids.gid);
  const [etcdPort, etcdPeerPort, haproxyPort] = [await freePort(), await freePort(), await freePort()];
  const states: NodeState[] = [];
  for (let i = 1; i <= 3; i++) {
    const nodeDir = join(dir, `pg${i}`);
    await mkdir(nodeDir, { mode: 0o700 });
    if (ids) await chown(nodeDir, ids.uid, ids.gid);
    states.push({
      name: `pg${i}`,
      port: await freePort(),
      apiPort: await freePort(),
      dir: nodeDir,
      configFile: join(dir, `pg${i}.yml`),
      logFile: join(dir, `pg${i}.log`),
    });
  }
  const patroniTemplate = await readFile(PATRONI_TEMPLATE, 'utf8');
  for (const node of states) await writeFile(node.configFile, stringify(patroniConfigFor(patroniTemplate, node, etcdPort)));
  const haproxyFile = join(dir, 'haproxy.cfg');
  await writeFile(haproxyFile, haproxyConfigFor(await readFile(HAPROXY_TEMPLATE, 'utf8'), haproxyPort, states));

  const others: ChildProcess[] = [];
  const spawnLogged = (command: string, args: string[], logFile: string, uidGid?: { uid: number; gid: number }) => {
    const fd = openSync(logFile, 'a');
    try {
      return spawn(command, args, { stdio: ['ignore', fd, fd], ...(uidGid ?? {}), env: { ...process.env, HOME: dir } });
    } finally {
      closeSync(fd);
    }
  };
  let haproxy: ChildProcess | undefined;
  const startProxy = async () => {
    haproxy = spawnLogged(HAPROXY_BIN, ['-db', '-f', haproxyFile], join(dir, 'haproxy.log'));
    others.push(haproxy);
    await waitForPort(haproxyPort, 10_000, 'haproxy');
  };

  const patroniRunning = (node: NodeState) => Boolean(node.child && node.child.exitCode === null && node.child.signalCode === null);
  const startPatroni = (node: NodeState) => {
    // Spawned as the postgres user directly (no runuser in between): the child's PID is Patroni's.
    node.child = spawnLogged(PATRONI_BIN, [node.configFile], node.logFile, ids);
  };
  /** The node's postmaster, from its postmaster.pid, if that PID still runs this node's postgres (not a reused PID). */
  const postmasterPid = (node: NodeState): number | undefined => {
    try {
      const dataDir = join(node.dir, 'data');
      const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      if (!Number.isInteger(pid) || pid <= 0) return undefined;
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dataDir) ? pid : undefined;
    } catch {
      return undefined;
    }
  };
  /** The last lines of each node's Patroni log, for a failure message (the directory goes with stop()). */
  const logTails = () =>
    states
      .map((node) => {
        let text = '(no log)';
        try {
          text = readFileSync(node.logFile, 'utf8').trim().split('\n').slice(-3).join(' | ');
        } catch {
          // not started yet
        }
        return `${node.name}: ${text}`;
      })
      .join('\n');

  async function api<T>(node: NodeState, path: string): Promise<{ status: number; body: T } | undefined> {
    try {
      const response = await fetch(`http://127.0.0.1:${node.apiPort}${path}`, { signal: AbortSignal.timeout(2_000) });
      return { status: response.status, body: (await response.json()) as T };
    } catch {
      return undefined;
    }
  }
  async function members(): Promise<Member[]> {
    for (const node of states.filter(patroniRunning)) {
      const answer = await api<{ members?: Member[] }>(node, '/cluster');
      if (answer?.body.members) return answer.body.members;
    }
    return [];
  }
  const isUp = (member: Member) => member.state === 'running' || member.state === 'streaming';

  async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await check()) return;
      await delay(200);
    }
    throw new Error(
      `Patroni cluster: timed out after ${timeoutMs} ms waiting for ${what} (members: ${JSON.stringify(await members())}); logs:\n${logTails()}`,
    );
  }

  async function killPid(pid: number | undefined): Promise<void> {
    if (pid === undefined) return;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      return; // gone already
    }
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      try {
        process.kill(pid, 0);
      } catch {
        return;
      }
      await delay(20);
    }
  }
  async function killChild(child: ChildProcess | undefined): Promise<void> {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await Promise.race([exited, delay(5_000)]);
  }

  /** Through HAProxy, a connection lands on a primary (not in recovery). */
  async function primaryAnswers(): Promise<boolean> {
    const client = new pg.Client({
      host: '127.0.0.1',
      port: haproxyPort,
      user: 'postgres',
      database: 'postgres',
      connectionTimeoutMillis: 2_000,
    });
    try {
      await client.connect();
      const { rows } = await client.query<{ recovery: boolean }>('select pg_is_in_recovery() as recovery');
      return rows[0]?.recovery === false;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  const cluster: PatroniCluster = {
    nodes: states.map((node) => ({
      name: node.name,
      port: node.port,
      apiPort: node.apiPort,
      dataDir: join(node.dir, 'data'),
      logFile: node.logFile,
      get running() {
        return patroniRunning(node);
      },
    })),
    url: `postgres://postgres@127.0.0.1:${haproxyPort}/postgres`,
    primaryPort: haproxyPort,
    dir,
    indexOf(name) {
      const index = states.findIndex((node) => node.name === name);
      if (index < 0) throw new Error(`no node named ${name} in the cluster`);
      return index;
    },
    members,
    async memberWith(role) {
      return (await members()).find((m) => m.role === role && isUp(m))?.name;
    },
    async waitForRole(role, { exclude = [], timeoutMs = 60_000 } = {}) {
      let name: string | undefined;
      await waitUntil(
        `a ${role} other than ${exclude.join(', ') || '(none)'}`,
        async () => {
          name = (await members()).find((m) => m.role === role && isUp(m) && !exclude.includes(m.name))?.name;
          return name !== undefined;
        },
        timeoutMs,
      );
      return name!;
    },
    async kill(index) {
      const node = states[index]!;
      const postmaster = postmasterPid(node);
      // Both at once: neither gets to tell the other, nor etcd, anything.
      await Promise.all([killChild(node.child), killPid(postmaster)]);
    },
    async restart(index, timeoutMs = 90_000) {
      const node = states[index]!;
      if (patroniRunning(node)) throw new Error(`${node.name} is still running`);
      startPatroni(node);
      await waitUntil(
        `${node.name} back as a streaming replica`,
        async () => {
          const list = await members();
          const me = list.find((m) => m.name === node.name);
          const leader = list.find((m) => m.role === 'leader');
          return Boolean(me && leader && me.role !== 'leader' && isUp(me) && me.timeline === leader.timeline && me.lag === 0);
        },
        timeoutMs,
      );
    },
    async restartProxy() {
      await killChild(haproxy);
      await startProxy();
    },
    logLines(index, pattern) {
      try {
        return readFileSync(states[index]!.logFile, 'utf8')
          .split('\n')
          .filter((line) => pattern.test(line));
      } catch {
        return [];
      }
    },
    async stop() {
      process.off('exit', killAllNow);
      await Promise.all(states.map((node) => Promise.all([killChild(node.child), killPid(postmasterPid(node))])));
      await Promise.all(others.map(killChild));
      await rm(dir, { recursive: true, force: true });
    },
  };
  // mocha --exit ends the process as soon as the run is over, even while an
  // after hook is still stopping the cluster (or failed before it): leave no
  // etcd, HAProxy, Patroni or postmaster of ours behind.
  function killAllNow(): void {
    const live = (child?: ChildProcess) => (child && child.exitCode === null && child.signalCode === null ? child.pid : undefined);
    const pids = [...states.flatMap((node) => [live(node.child), postmasterPid(node)]), ...others.map(live)];
    for (const pid of pids) {
      try {
        if (pid !== undefined) process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
  }
  process.on('exit', killAllNow);

  try {
    const etcd = spawnLogged(
      ETCD_BIN,
      [
        '--name=etcd1',
        `--data-dir=${join(dir, 'etcd')}`,
        `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
        `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
        `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
        `--initial-cluster=etcd1=http://127.0.0.1:${etcdPeerPort}`,
        '--enable-v2=true',
      ],
      join(dir, 'etcd.log'),
    );
    others.push(etcd);
    await waitForPort(etcdPort, 20_000, 'etcd');
    // One node bootstraps (initdb) and leads; the other two start once it does, cloning it.
    startPatroni(states[0]!);
    await cluster.waitForRole('leader', { timeoutMs: readyTimeoutMs });
    for (const node of states.slice(1)) startPatroni(node);
    await waitUntil(
      'three members running on one timeline, one of them the synchronous standby',
      async () => {
        const list = await members();
        return (
          list.length === 3 &&
          list.every(isUp) &&
          list.some((m) => m.role === 'sync_standby') &&
          list.every((m) => m.role === 'leader' || m.lag === 0)
        );
      },
      readyTimeoutMs,
    );
    await startProxy();
    // HAProxy starts with every server up until its checks say otherwise: wait
    // until connection after connection (round robin) lands on the primary.
    await waitUntil(
      'HAProxy to route every connection to the primary',
      async () => {
        for (let i = 0; i < 2 * states.length; i++) if (!(await primaryAnswers())) return false;
        return true;
      },
      20_000,
    );
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}
