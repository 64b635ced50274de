import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { expect } from 'chai';
import { withDatabase } from '#libs/db/admin.js';
import { startThrowawayNatsServer } from '#test/support/nats-server.js';
import { testNatsUrl } from '#test/support/root-hooks.js';
import { TEST_DATABASE_SERVER } from '#test/support/test-database.js';

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a service's main.ts as a process (as the images do) and waits, bounded, for it to exit. */
function runMain(entry: string, env: Record<string, string>, timeoutMs = 20_000): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', entry], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${entry} still running after ${timeoutMs} ms; stdout: ${stdout} stderr: ${stderr}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Nothing must be reached: if the process got past its configuration it would talk to these. */
const UNREACHABLE = {
  // A database that does not exist: connecting would fail loudly in the log.
  DATABASE_URL: withDatabase(TEST_DATABASE_SERVER, 'larder_main_test_never_created'),
  LOG_LEVEL: 'info',
};

/** The order service's main.ts listening on 127.0.0.1 (metrics on a free port), with `env` on top. */
const runOrderMain = (env: Record<string, string>) =>
  runMain('services/order/main.ts', {
    ...UNREACHABLE,
    GRPC_HOST: '127.0.0.1',
    METRICS_PORT: '0',
    SHUTDOWN_GRACE_MS: '500',
    ...env,
  });

/** The JSON log lines of a run's stdout. */
const logLines = (stdout: string) =>
  stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { level: string; msg: string; service: string; err?: { message: string } });

describe('service entry points (runServiceMain)', function () {
  this.timeout(60_000);

  for (const service of ['inventory', 'order'] as const) {
    const entry = `services/${service}/main.ts`;

    it(`${service}: an invalid configuration prints "${service}: invalid configuration: …" and exits 2, before logging anything`, async () => {
      const exit = await runMain(entry, { ...UNREACHABLE, NATS_URL: testNatsUrl(), GRPC_PORT: 'not-a-port' });
      expect(exit.code, exit.stderr).to.equal(2);
      expect(exit.stderr).to.equal(`${service}: invalid configuration: GRPC_PORT: must be an integer, got "not-a-port"\n`);
      expect(exit.stdout, 'no logger was created').to.equal('');
    });
  }

  it('order: streams the server will not replicate NATS_STREAM_REPLICAS times log a fatal line naming it, the stream and both counts, and exit 1', async () => {
    // A fresh single server: no stream exists yet, and one server refuses to create an R3 stream.
    const single = await startThrowawayNatsServer();
    try {
      const exit = await runOrderMain({ NATS_URL: single.url, NATS_STREAM_REPLICAS: '3', GRPC_PORT: '0' });
      expect(exit.code, exit.stdout + exit.stderr).to.equal(1);
      const fatal = logLines(exit.stdout).find((line) => line.level === 'fatal');
      expect(fatal?.msg, exit.stdout).to.equal(
        'NATS_STREAM_REPLICAS=3 cannot be applied: stream ORDERS does not exist yet, 3 wanted, and the server refused: replicas > 1 not supported in non-clustered mode',
      );
    } finally {
      await single.destroy();
    }
  });

  it('order: INVENTORY_ADDR naming several hosts by name (no resolver takes that list) exits 2 naming it, instead of leaving every order PENDING', async () => {
    const value = 'inventory-a:50051,inventory-b:50051';
    const exit = await runMain('services/order/main.ts', { ...UNREACHABLE, NATS_URL: testNatsUrl(), INVENTORY_ADDR: value });
    expect(exit.code, exit.stdout + exit.stderr).to.equal(2);
    expect(exit.stderr).to.match(
      /^order: invalid configuration: INVENTORY_ADDR: a list takes IP addresses only; for a name use dns:\/\/\/name:port/,
    );
    expect(exit.stderr).to.include(`got "${value}"`);
    expect(exit.stdout, 'no logger was created').to.equal('');
  });

  it('order: a gRPC port already taken logs "failed to start" with the bind error and exits 1', async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', () => resolve()));
    try {
      const port = (taken.address() as { port: number }).port;
      const exit = await runOrderMain({ NATS_URL: testNatsUrl(), GRPC_PORT: String(port) });
      expect(exit.code, exit.stdout + exit.stderr).to.equal(1);
      const lines = logLines(exit.stdout);
      const fatal = lines.find((line) => line.msg === 'failed to start');
      expect(fatal, exit.stdout).to.include({ level: 'fatal', service: 'order' });
      expect(fatal!.err!.message).to.include('EADDRINUSE');
      expect(
        lines.filter((line) => line.level === 'error'),
        'nothing else went wrong on the way out',
      ).to.deep.equal([]);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});
