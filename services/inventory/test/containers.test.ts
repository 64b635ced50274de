import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { expect } from 'chai';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../../../libs/config/env.js';
import { HealthRegistry } from '../../../libs/grpc/health.js';
import { freePort } from '../../../libs/testing/free-port.js';
import { DEVELOPMENT_API_KEYS, readInventoryConfig } from '../config.js';
import { startTestInventory, type TestInventory } from './harness.js';

/**
 * The container files, checked without a Docker engine: docker-compose.yml and
 * services/inventory/Dockerfile must agree with each other, with the files on
 * disk and with the configuration code; scripts/healthcheck.ts (the image's
 * HEALTHCHECK) runs for real against a real inventory service.
 */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

// ---------- docker-compose.yml ----------

interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (string | number | { target: number; published?: number | string })[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  volumes?: (string | { target: string })[];
  restart?: string;
}

const compose = parseYaml(read('docker-compose.yml')) as { services: Record<string, ComposeService> };

function service(name: string): ComposeService {
  const found = compose.services?.[name];
  if (!found) throw new Error(`docker-compose.yml has no service "${name}"`);
  return found;
}

/** A service's environment as strings, whichever of compose's two forms it uses. */
function environment(name: string): Record<string, string> {
  const env = service(name).environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((entry) => [entry.split('=')[0]!, entry.slice(entry.indexOf('=') + 1)]));
  }
  return Object.fromEntries(Object.entries(env).map(([key, value]) => [key, value === null ? '' : String(value)]));
}

const words = (command: string | string[] | undefined): string[] =>
  command === undefined ? [] : Array.isArray(command) ? command : command.split(/\s+/).filter(Boolean);

function build(name: string): { context: string; dockerfile: string } {
  const spec = service(name).build;
  if (spec === undefined) throw new Error(`service "${name}" has no build`);
  const context = typeof spec === 'string' ? spec : (spec.context ?? '.');
  const dockerfile = typeof spec === 'string' ? 'Dockerfile' : (spec.dockerfile ?? 'Dockerfile');
  return { context, dockerfile: posix.join(context, dockerfile) };
}

/** [published, target] container ports. */
function ports(name: string): { published: number; target: number }[] {
  return (service(name).ports ?? []).map((port) => {
    if (typeof port === 'object') return { published: Number(port.published ?? port.target), target: Number(port.target) };
    const parts = String(port)
      .replace(/\/(tcp|udp)$/, '')
      .split(':');
    const target = Number(parts.at(-1));
    return { published: parts.length > 1 ? Number(parts.at(-2)) : target, target };
  });
}

function dependsOn(name: string): Record<string, string | undefined> {
  const spec = service(name).depends_on ?? {};
  if (Array.isArray(spec)) return Object.fromEntries(spec.map((dep) => [dep, undefined]));
  return Object.fromEntries(Object.entries(spec).map(([dep, { condition } = {}]) => [dep, condition]));
}

/** Every environment variable the inventory's configuration code reads, found in its source. */
function variablesReadByCode(): Set<string> {
  const sources = ['libs/config/common.ts', 'services/inventory/config.ts'].map(read).join('\n');
  return new Set([...sources.matchAll(/\.(?:raw|string|int|number|url|oneOf|bool)\(\s*'([A-Z][A-Z0-9_]*)'/g)].map((m) => m[1]!));
}

// ---------- services/inventory/Dockerfile ----------

interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  name?: string;
  image: string;
  workdir: string;
  instructions: Instruction[];
}

function parseDockerfile(text: string): Stage[] {
  const logical = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\r?\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const stages: Stage[] = [];
  for (const line of logical) {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const upper = keyword.toUpperCase();
    if (upper === 'FROM') {
      const [image = '', , name] = args.split(/\s+/).filter((w) => !w.startsWith('--'));
      stages.push({ image, name, workdir: '/', instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`Dockerfile: ${upper} before FROM`);
    if (upper === 'WORKDIR') stage.workdir = posix.resolve(stage.workdir, args);
    stage.instructions.push({ keyword: upper, args });
  }
  return stages;
}

interface Copy {
  from?: string;
  sources: string[];
}

function copies(stage: Stage): Copy[] {
  return stage.instructions
    .filter((i) => i.keyword === 'COPY' || i.keyword === 'ADD')
    .map(({ args }) => {
      const tokens = args.split(/\s+/);
      const flags = tokens.filter((t) => t.startsWith('--'));
      const rest = tokens.filter((t) => !t.startsWith('--')).join(' ');
      const paths = rest.startsWith('[') ? (JSON.parse(rest) as string[]) : rest.split(/\s+/);
      const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
      const sources = paths.slice(0, -1).map((p) => {
        const relative = from ? posix.relative(stages.find((s) => s.name === from)?.workdir ?? '/', posix.resolve('/', p)) : p;
        return posix.normalize(relative).replace(/\/$/, '').replace(/^\.\//, '');
      });
      return { from, sources };
    });
}

const dockerfilePath = build('inventory').dockerfile;
const stages = parseDockerfile(read(dockerfilePath));
const finalStage = stages.at(-1)!;
const inFinal = (keyword: string): Instruction[] => finalStage.instructions.filter((i) => i.keyword === keyword);

/** .dockerignore entries, enough to tell whether a COPY source would be left out of the context. */
const dockerignore = read('.dockerignore')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'));

function ignoredByDocker(path: string): boolean {
  const segments = path.split('/');
  return dockerignore.some((pattern) => {
    if (pattern.startsWith('**/') && !pattern.includes('*', 3)) return segments.includes(pattern.slice(3));
    if (pattern.includes('*')) return false;
    const plain = pattern.replace(/^\//, '').replace(/\/$/, '');
    return path === plain || path.startsWith(`${plain}/`);
  });
}

// ---------- the healthcheck script, run for real ----------

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function runHealthcheck(port: number, timeoutMs = 20_000): Promise<Run> {
  const started = Date.now();
  const env: NodeJS.ProcessEnv = { ...process.env, GRPC_PORT: String(port) };
  delete env.GRPC_HOST;
  delete env.TLS_CERT_FILE;
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/healthcheck.ts'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`healthcheck did not exit within ${timeoutMs} ms (stdout: ${stdout}, stderr: ${stderr})`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

describe('container files', () => {
  describe('docker-compose.yml', () => {
    it('runs postgres 16, NATS with JetStream (stored on a volume), the migrations and the inventory service', () => {
      expect(Object.keys(compose.services)).to.include.members(['postgres', 'nats', 'migrate', 'inventory']);
      expect(service('postgres').image).to.match(/^postgres:16(\.|-|$)/);
      expect(service('nats').image).to.match(/^nats:2\.10/);
      const nats = words(service('nats').command);
      expect(nats).to.include('-js');
      const storeDir = nats[nats.indexOf('-sd') + 1] ?? nats[nats.indexOf('--store_dir') + 1];
      expect(storeDir, 'nats store dir (-sd)').to.be.a('string');
      const natsVolumes = (service('nats').volumes ?? []).map((v) => (typeof v === 'string' ? v.split(':')[1] : v.target));
      expect(natsVolumes, 'the JetStream store survives restarts').to.include(storeDir);
      expect(words(service('migrate').command)).to.deep.equal(['node', '--import', 'tsx', 'scripts/migrate.ts']);
      expect(service('migrate').restart).to.equal('no');
    });

    it('builds migrate and inventory from a Dockerfile and context that exist', () => {
      for (const name of ['migrate', 'inventory']) {
        const { context, dockerfile } = build(name);
        expect(existsSync(join(ROOT, context, 'package.json')), `${name}: context ${context} is the repository root`).to.equal(true);
        expect(existsSync(join(ROOT, dockerfile)), `${name}: ${dockerfile}`).to.equal(true);
      }
      expect(build('migrate')).to.deep.equal(build('inventory'));
      expect(build('inventory').dockerfile).to.equal('services/inventory/Dockerfile');
    });

    it('sets every variable the inventory needs in production, and the service accepts them', () => {
      const env = environment('inventory');
      expect(env.NODE_ENV).to.equal('production');
      for (const name of ['API_KEYS', 'DATABASE_URL', 'NATS_URL', 'GRPC_PORT']) expect(env[name], name).to.be.a('string').and.not.equal('');

      const config = readInventoryConfig(env);
      expect(config.production).to.equal(true);
      expect(config.grpcPort).to.equal(Number(env.GRPC_PORT));
      expect(config.tls).to.equal(undefined);
      const developmentKeys = DEVELOPMENT_API_KEYS.split(';').map((entry) => entry.split('=')[1]!.split(':')[0]);
      for (const key of config.apiKeys) expect(developmentKeys, `key "${key.name}" is not a development key`).not.to.include(key.key);
      expect(
        config.apiKeys.some((k) => k.scopes.has('*')),
        'an admin key',
      ).to.equal(true);

      // The same environment without API_KEYS is refused: production really is on.
      const { API_KEYS: _keys, ...withoutKeys } = env;
      expect(() => readInventoryConfig(withoutKeys)).to.throw(ConfigError, /API_KEYS/);
    });

    it('names only variables the code reads, and nothing compose would interpolate', () => {
      const known = variablesReadByCode();
      expect(known).to.include.members(['DATABASE_URL', 'NATS_URL', 'GRPC_PORT', 'API_KEYS', 'NODE_ENV', 'LOG_LEVEL']);
      for (const [name, value] of Object.entries(environment('inventory'))) {
        expect(known.has(name), `inventory reads ${name}`).to.equal(true);
        expect(value, `${name} has no $ (compose interpolates it)`).not.to.include('$');
      }
      expect(Object.keys(environment('migrate'))).to.deep.equal(['INVENTORY_DATABASE_URL']);
      expect(read('scripts/migrate.ts')).to.include('process.env.INVENTORY_DATABASE_URL');
    });

    it('points both database URLs at the postgres service and its credentials, and NATS_URL at the nats service', () => {
      const migrateUrl = new URL(environment('migrate').INVENTORY_DATABASE_URL!);
      const serviceUrl = new URL(environment('inventory').DATABASE_URL!);
      expect(migrateUrl.href, 'migrate prepares the database the service uses').to.equal(serviceUrl.href);
      expect(serviceUrl.hostname).to.equal('postgres');
      expect(serviceUrl.port || '5432').to.equal('5432');
      expect(serviceUrl.pathname).to.equal('/larder_inventory');
      const pg = environment('postgres');
      expect(decodeURIComponent(serviceUrl.username)).to.equal(pg.POSTGRES_USER ?? 'postgres');
      if (pg.POSTGRES_HOST_AUTH_METHOD !== 'trust') expect(decodeURIComponent(serviceUrl.password)).to.equal(pg.POSTGRES_PASSWORD);

      const natsUrl = new URL(environment('inventory').NATS_URL!);
      expect(natsUrl.hostname).to.equal('nats');
      expect(natsUrl.port || '4222').to.equal('4222');
    });

    it('publishes the gRPC port the service listens on', () => {
      const grpcPort = Number(environment('inventory').GRPC_PORT);
      expect(ports('inventory')).to.deep.include({ published: grpcPort, target: grpcPort });
    });

    it('starts in order, gated on health: postgres and nats healthy, migrations finished', () => {
      expect(dependsOn('migrate')).to.deep.equal({ postgres: 'service_healthy' });
      expect(dependsOn('inventory')).to.deep.equal({
        postgres: 'service_healthy',
        nats: 'service_healthy',
        migrate: 'service_completed_successfully',
      });
      for (const name of ['postgres', 'nats']) {
        const check = service(name).healthcheck;
        expect(check?.disable, `${name} healthcheck`).not.to.equal(true);
        expect(words(check?.test).length, `${name} healthcheck test`).to.be.greaterThan(1);
      }
      expect(words(service('postgres').healthcheck?.test).join(' ')).to.include('pg_isready');
      const natsCheck = words(service('nats').healthcheck?.test).join(' ');
      expect(natsCheck).to.include('/healthz');
      expect(natsCheck, 'the monitoring port it asks is the one nats opens').to.include(
        `:${words(service('nats').command)[words(service('nats').command).indexOf('-m') + 1]}/`,
      );
    });
  });

  describe('services/inventory/Dockerfile', () => {
    it('is built on node:20-bookworm-slim in stages', () => {
      expect(stages.length).to.be.greaterThan(1);
      for (const stage of stages) expect(stage.image).to.equal('node:20-bookworm-slim');
    });

    it('runs as a non-root user', () => {
      const user = inFinal('USER').at(-1)?.args.split(':')[0];
      expect(user, 'USER in the final stage').to.be.a('string');
      expect(['root', '0']).not.to.include(user);
    });

    it('runs the service with tsx, in production, on the GRPC_PORT compose uses', () => {
      const cmd = JSON.parse(inFinal('CMD').at(-1)!.args) as string[];
      expect(cmd).to.deep.equal(['node', '--import', 'tsx', 'services/inventory/main.ts']);
      expect(existsSync(join(ROOT, cmd[3]!))).to.equal(true);
      const env = Object.fromEntries(
        inFinal('ENV').flatMap((i) =>
          [...i.args.matchAll(/([A-Z_][A-Z0-9_]*)=("[^"]*"|\S+)/g)].map((m) => [m[1], m[2]!.replace(/"/g, '')]),
        ),
      );
      expect(env.NODE_ENV).to.equal('production');
      expect(env.GRPC_PORT).to.equal(environment('inventory').GRPC_PORT);
      const exposed = inFinal('EXPOSE').flatMap((i) => i.args.split(/\s+/).map((p) => p.replace(/\/tcp$/, '')));
      expect(exposed).to.include.members([env.GRPC_PORT!, '9464']);
    });

    it('has a HEALTHCHECK running scripts/healthcheck.ts', () => {
      const [healthcheck] = inFinal('HEALTHCHECK');
      expect(healthcheck, 'HEALTHCHECK').to.not.equal(undefined);
      const command = JSON.parse(healthcheck!.args.slice(healthcheck!.args.indexOf('CMD') + 3).trim()) as string[];
      expect(command).to.deep.equal(['node', '--import', 'tsx', 'scripts/healthcheck.ts']);
      expect(existsSync(join(ROOT, 'scripts/healthcheck.ts'))).to.equal(true);
    });

    it('copies only files that exist and that .dockerignore leaves in the context', () => {
      const fromContext = stages.flatMap((stage) => copies(stage).filter((c) => !c.from)).flatMap((c) => c.sources);
      expect(fromContext.length).to.be.greaterThan(0);
      for (const source of fromContext) {
        expect(existsSync(join(ROOT, source)), `COPY ${source}`).to.equal(true);
        expect(ignoredByDocker(source), `.dockerignore leaves out ${source}`).to.equal(false);
      }
      expect(ignoredByDocker('node_modules'), '.dockerignore keeps the host node_modules out').to.equal(true);
      expect(ignoredByDocker('.git')).to.equal(true);
      for (const { from } of stages.flatMap(copies)) {
        if (from)
          expect(
            stages.map((s) => s.name),
            `COPY --from=${from}`,
          ).to.include(from);
      }
    });

    it('puts proto/, libs/, scripts/, services/inventory/ and the package files into the image', () => {
      const required = ['package.json', 'package-lock.json', 'tsconfig.json', 'proto', 'libs', 'scripts', 'services/inventory'];
      const finalCopies = copies(finalStage);
      for (const path of required) {
        const copy = finalCopies.find((c) => c.sources.includes(path));
        expect(copy, `final stage copies ${path}`).to.not.equal(undefined);
        if (copy!.from) {
          const stage = stages.find((s) => s.name === copy!.from)!;
          expect(
            copies(stage).some((c) => !c.from && c.sources.includes(path)),
            `stage ${copy!.from} copies ${path} from the context`,
          ).to.equal(true);
        }
      }
      expect(existsSync(join(ROOT, 'libs/contracts/descriptors.binpb')), 'read at run time by reflection').to.equal(true);
    });

    it('installs production dependencies plus tsx at the version package-lock.json pins', () => {
      const modules = copies(finalStage).find((c) => c.sources.includes('node_modules'));
      expect(modules?.from, 'node_modules comes from a dependency stage').to.be.a('string');
      const install = stages
        .find((s) => s.name === modules!.from)!
        .instructions.filter((i) => i.keyword === 'RUN')
        .map((i) => i.args)
        .join(' ');
      expect(install).to.include('npm ci --omit=dev');
      expect(install).to.include('dependencies.tsx');
      const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { version?: string }> };
      expect(lock.packages['node_modules/tsx']?.version, 'tsx in package-lock.json').to.match(/^\d+\.\d+\.\d+/);
    });
  });
});

describe('scripts/healthcheck.ts', function () {
  this.timeout(60_000);

  let inventory: TestInventory | undefined;
  after(async () => {
    await inventory?.stop();
  });

  it('exits 0 and prints SERVING against a running inventory service', async () => {
    inventory = await startTestInventory();
    const run = await runHealthcheck(inventory.running.port);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.match(/: SERVING\b/);
  });

  it('exits non-zero when the server answers NOT_SERVING', async () => {
    const server = new Server();
    new HealthRegistry([]).addToServer(server); // every status starts NOT_SERVING
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    );
    try {
      const run = await runHealthcheck(port);
      expect(run.code).to.equal(1);
      expect(run.stdout).to.match(/: NOT_SERVING\b/);
    } finally {
      server.forceShutdown();
    }
  });

  it('exits non-zero, within its 2 s deadline, when nothing listens on GRPC_PORT', async () => {
    const run = await runHealthcheck(await freePort());
    expect(run.code).to.not.equal(0);
    expect(run.stderr).to.match(/no answer/);
    expect(run.ms).to.be.below(15_000);
  });
});
