import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { delay, freePort, waitForPort } from './free-port.js';

const NATS_SERVER_BIN = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server';
const CLUSTER_NAME = 'larder-test';

/** One server of the cluster: its client URL, its name in stream info (cluster.leader), its PID while it runs. */
export interface ClusterNode {
  readonly name: string;
  readonly url: string;
  readonly running: boolean;
  readonly pid: number | undefined;
}

/**
 * Three clustered nats-server processes with JetStream on loopback, for tests
 * that take a node away. Each has its own config file, store directory and
 * log in one temporary directory (kept until stop(), for reading after a failure).
 */
export interface NatsCluster {
  readonly nodes: readonly ClusterNode[];
  /** Every node's client URL, as NATS_URL takes them. */
  readonly urls: string[];
  readonly dir: string;
  /** The node index whose server_name is `name` (stream info's cluster.leader). */
  indexOf(name: string): number;
  /** Names of the clients connected to the node now (monitoring /connz): who will have to fail over. */
  clients(node: number): Promise<string[]>;
  /** SIGKILL to the node's PID (a crash: no goodbye to the cluster); resolves once it has exited. */
  kill(node: number): Promise<void>;
  /** Starts the node again on its ports with its store; resolves once it reports healthy (JetStream current). */
  restart(node: number): Promise<void>;
  /** Kills every node still running (by PID) and removes the temporary directory. */
  stop(): Promise<void>;
}

interface NodeState {
  name: string;
  port: number;
  clusterPort: number;
  httpPort: number;
  configFile: string;
  child?: ChildProcess;
}

/** Whole starts tried before giving up: each with fresh ports and a fresh directory. */
const START_ATTEMPTS = 3;

/**
 * Starts the cluster. A start can fail for reasons that are not the code's: a
 * port picked free was taken by another process before the node bound it, or a
 * loaded machine was slow; such a start is thrown away and tried again on new
 * ports (bounded), and the last error is the one reported.
 */
export async function startNatsCluster(options: { size?: number; readyTimeoutMs?: number } = {}): Promise<NatsCluster> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startNatsClusterOnce(options);
    } catch (error) {
      if (attempt >= START_ATTEMPTS) throw error;
      console.warn(`      NATS cluster start ${attempt} of ${START_ATTEMPTS} failed, retrying on new ports: ${(error as Error).message}`);
    }
  }
}

async function startNatsClusterOnce({ size = 3, readyTimeoutMs = 30_000 } = {}): Promise<NatsCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'larder-nats-cluster-'));
  const states: NodeState[] = [];
  for (let i = 0; i < size; i++) {
    states.push({ name: `n${i + 1}`, port: await freePort(), clusterPort: await freePort(), httpPort: await freePort(), configFile: '' });
  }
  for (const node of states) {
    const routes = states.filter((other) => other !== node).map((other) => `nats-route://127.0.0.1:${other.clusterPort}`);
    node.configFile = join(dir, `${node.name}.conf`);
    await writeFile(
      node.configFile,
      [
        `server_name: ${node.name}`,
        `listen: 127.0.0.1:${node.port}`,
        `http: 127.0.0.1:${node.httpPort}`,
        `log_file: "${join(dir, `${node.name}.log`)}"`,
        `jetstream { store_dir: "${join(dir, node.name)}" }`,
        `cluster { name: ${CLUSTER_NAME}, listen: 127.0.0.1:${node.clusterPort}, routes: [${routes.join(', ')}] }`,
        '',
      ].join('\n'),
    );
  }

  const running = (node: NodeState) => Boolean(node.child && node.child.exitCode === null && node.child.signalCode === null);

  /** Resolves once the node listens; rejects at once, with its log's tail, if it exits first (a port taken meanwhile). */
  async function spawnNode(node: NodeState): Promise<void> {
    const child = spawn(NATS_SERVER_BIN, ['-c', node.configFile], { stdio: 'ignore' });
    node.child = child;
    let onExit: (() => void) | undefined;
    const exited = new Promise<never>((_, reject) => {
      onExit = () => {
        void logTail(node).then((tail) =>
          reject(new Error(`nats-server ${node.name} exited (${child.signalCode ?? child.exitCode}) while starting: ${tail}`)),
        );
      };
      child.once('exit', onExit);
    });
    exited.catch(() => undefined); // a late rejection, once the race is decided, is nobody's to handle
    try {
      await Promise.race([waitForPort(node.port, 20_000, `nats-server ${node.name}`), exited]);
    } finally {
      child.off('exit', onExit!);
    }
  }

  async function logTail(node: NodeState): Promise<string> {
    const text = await readFile(join(dir, `${node.name}.log`), 'utf8').catch(() => '(no log)');
    return text.trim().split('\n').slice(-3).join(' | ');
  }

  async function kill(node: NodeState): Promise<void> {
    const proc = node.child;
    if (!proc || !running(node) || proc.pid === undefined) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    process.kill(proc.pid, 'SIGKILL');
    await Promise.race([exited, delay(5_000)]);
  }

  const cluster: NatsCluster = {
    nodes: states.map((node) => ({
      name: node.name,
      url: `nats://127.0.0.1:${node.port}`,
      get running() {
        return running(node);
      },
      get pid() {
        return node.child?.pid;
      },
    })),
    urls: states.map((node) => `nats://127.0.0.1:${node.port}`),
    dir,
    indexOf(name) {
      const index = states.findIndex((node) => node.name === name);
      if (index < 0) throw new Error(`no node named ${name} in the cluster (${states.map((n) => n.name).join(', ')})`);
      return index;
    },
    async clients(index) {
      const response = await monitor(states[index]!, '/connz?limit=1024');
      if (!response?.ok) throw new Error(`node ${states[index]!.name} did not answer /connz`);
      const connz = (await response.json()) as { connections?: { name?: string }[] };
      return (connz.connections ?? []).map((c) => c.name ?? '(unnamed)');
    },
    kill: (index) => kill(states[index]!),
    async restart(index) {
      const node = states[index]!;
      if (running(node)) throw new Error(`node ${node.name} is still running`);
      await spawnNode(node);
      await waitUntil(`node ${node.name} healthy after restart`, () => healthy(node), readyTimeoutMs);
    },
    async stop() {
      await Promise.all(states.map(kill));
      await rm(dir, { recursive: true, force: true });
    },
  };

  try {
    await Promise.all(states.map(spawnNode));
    await waitUntil('a JetStream meta leader', async () => (await metaLeaders(states)).length > 0, readyTimeoutMs);
    await waitUntil('every node healthy', async () => (await Promise.all(states.map(healthy))).every(Boolean), readyTimeoutMs);
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}

/** The server's own health check: 200 once JetStream is enabled and its streams and consumers are current. */
async function healthy(node: NodeState): Promise<boolean> {
  const response = await monitor(node, '/healthz');
  return response?.ok ?? false;
}

async function metaLeaders(states: readonly NodeState[]): Promise<string[]> {
  const leaders: string[] = [];
  for (const node of states) {
    const response = await monitor(node, '/jsz');
    if (!response?.ok) continue;
    const jsz = (await response.json()) as { meta_cluster?: { leader?: string } };
    if (jsz.meta_cluster?.leader) leaders.push(jsz.meta_cluster.leader);
  }
  return leaders;
}

async function monitor(node: NodeState, path: string): Promise<Response | undefined> {
  try {
    return await fetch(`http://127.0.0.1:${node.httpPort}${path}`, { signal: AbortSignal.timeout(2_000) });
  } catch {
    return undefined;
  }
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await delay(100);
  }
  throw new Error(`NATS cluster: timed out after ${timeoutMs} ms waiting for ${what}`);
}
