import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { expect } from 'chai';
import type { CommonConfig } from '#libs/config/common.js';
import { ConfigError, type Env } from '#libs/config/env.js';
import type { Migration } from '#libs/db/migrate.js';
import { waitUntilServing } from '#libs/grpc/health-probe.js';
import {
  ServerReflectionClient,
  type ServerReflectionRequest,
  type ServerReflectionResponse,
} from '#libs/contracts/grpc/reflection/v1/reflection.js';
import { freePort } from './free-port.js';
import { testNatsUrl } from './root-hooks.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';
import {
  assembleStage,
  ignoredByDocker,
  linkProductionModules,
  loadCompose,
  loadDockerfile,
  readRepoFile,
  ROOT,
  runNode,
  variablesReadByCode,
  words,
  type Dockerfile,
} from './container-files.js';
import { runProcess, type Run } from './run-process.js';

/**
 * The checks Larder's container files must pass, without a Docker engine, as
 * mocha suites. One Dockerfile at the root builds every service's image:
 * `--build-arg SERVICE=<name>` picks the stage that runs services/<name>/.
 * A service `name` has a compose service <name> and a one-shot compose job
 * migrate-<name> running `node dist/scripts/migrate.js <name>` with
 * <NAME>_DATABASE_URL, on database larder_<name>, both built with SERVICE=<name>.
 * describeImage() checks what every image shares, and builds dist/ (once per
 * mocha run) from exactly the files the build stage copies; describeServiceContainer()
 * checks one service's image and compose entries, and runs the service from
 * the files its image holds.
 */
export interface ServiceContainer {
  name: string;
  readConfig(env: Env): CommonConfig;
  /** The service's DEVELOPMENT_API_KEYS: compose must not use them. */
  developmentApiKeys: string;
  migrations: readonly Migration[];
  /** Tables its migrations create (some of them). */
  tables: readonly string[];
  /** The gRPC services it serves (besides health and reflection): its reflection lists them. */
  grpcServices: readonly string[];
  /** Compose services it waits for besides postgres, nats and its migrate job, with the condition. */
  alsoDependsOn?: Record<string, string>;
  /** Variables to override in compose's environment when it runs here (addresses of other compose services). */
  localEnv?: () => Promise<Record<string, string>>;
}

export const DOCKERFILE = 'Dockerfile';

/** Variables every service needs set in compose (production refuses the development keys). */
const REQUIRED = ['NODE_ENV', 'API_KEYS', 'DATABASE_URL', 'NATS_URL', 'GRPC_PORT', 'METRICS_PORT'];

/** Where a script's database URL points when it must not be touched: nothing listens on port 1. */
const UNREACHABLE_DATABASE = 'postgres://postgres@127.0.0.1:1/larder_must_not_be_touched';

/** The services: one folder each under services/. */
const SERVICES = readdirSync(join(ROOT, 'services'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

/** The keys of an API_KEYS text (entries `name=key:scopes`). */
const keysOf = (text: string): string[] =>
  text
    .split(';')
    .filter(Boolean)
    .map((entry) => entry.split('=')[1]!.split(':')[0]!);

/**
 * A container's environment: `variables` and PATH only, so nothing of the test
 * run leaks in (no NODE_OPTIONS loading tsx, no TLS_* or DATABASE_URL of the host).
 */
const containerEnv = (variables: Record<string, string>): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, ...variables });

/** The environment for a dist/scripts/migrate.js run: `database` for `name`, every other service's unreachable. */
function migrateEnv(name: string, database: string): NodeJS.ProcessEnv {
  const env: Record<string, string> = {};
  for (const service of SERVICES) env[`${service.toUpperCase()}_DATABASE_URL`] = UNREACHABLE_DATABASE;
  env[`${name.toUpperCase()}_DATABASE_URL`] = database;
  return containerEnv(env);
}

/** Every file under `dir`, relative to it, with / separators. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split('\\').join('/'));
}

// ---------- the image's files, laid out and built once per run ----------

export interface ImageLayout {
  /** The build stage's WORKDIR after `npm run build`: the copied files, node_modules linked, dist/. */
  build: string;
  /** The runtime stage's WORKDIR: what it copies (dist/ from the build stage), production modules linked. */
  runtime: string;
  /** The build stage's `npm run build`. */
  buildRun: Run;
}

let layout: Promise<ImageLayout> | undefined;

/**
 * The files of the image, without Docker: the build stage's COPY sources from
 * the context (.dockerignore applied) in one temp directory, the repository's
 * node_modules linked in for its `npm ci`, its `npm run build` run there; then
 * the runtime stage's copies (the package files, and dist/ from the build
 * directory) in another, with only the production packages linked (its
 * `npm ci --omit=dev`). Shared by every test file of the run; removed at exit.
 */
export function imageLayout(): Promise<ImageLayout> {
  layout ??= (async () => {
    const dockerfile = loadDockerfile(DOCKERFILE, { SERVICE: SERVICES[0]! });
    const root = mkdtempSync(join(tmpdir(), 'larder-image-'));
    process.once('exit', () => rmSync(root, { recursive: true, force: true }));
    const build = join(root, 'build');
    const runtime = join(root, 'runtime');
    mkdirSync(build);
    mkdirSync(runtime);
    assembleStage(dockerfile, 'build', build);
    symlinkSync(join(ROOT, 'node_modules'), join(build, 'node_modules'), 'dir');
    const buildRun = await runProcess('sh', ['-c', lastRun(dockerfile, 'build')], { cwd: build, timeoutMs: 170_000 });
    if (buildRun.code !== 0) throw new Error(`npm run build failed in ${build}:\n${buildRun.stdout}${buildRun.stderr}`);
    assembleStage(dockerfile, 'runtime', runtime, { build });
    linkProductionModules(runtime);
    return { build, runtime, buildRun };
  })();
  return layout;
}

const runs = (dockerfile: Dockerfile, stageName: string): string[] =>
  dockerfile.stages
    .find((s) => s.name === stageName)!
    .instructions.filter((i) => i.keyword === 'RUN')
    .map((i) => i.args);
const lastRun = (dockerfile: Dockerfile, stageName: string): string => runs(dockerfile, stageName).at(-1) ?? '';

/** Asks reflection (v1) one question and returns the first answer. */
function reflect(address: string, request: Partial<ServerReflectionRequest>): Promise<ServerReflectionResponse> {
  const client = new ServerReflectionClient(address, credentials.createInsecure());
  return new Promise<ServerReflectionResponse>((resolve, reject) => {
    const stream = client.serverReflectionInfo();
    stream.once('data', (response: ServerReflectionResponse) => {
      resolve(response);
      stream.end();
    });
    stream.once('error', reject);
    stream.write({ host: '', ...request });
  }).finally(() => client.close());
}

// ---------- what every image shares ----------

export function describeImage(): void {
  const dockerfile = loadDockerfile(DOCKERFILE, { SERVICE: SERVICES[0]! });

  describe(`${DOCKERFILE}: what every service's image shares`, () => {
    it('is built on node:20-bookworm-slim in stages: build, runtime, then one per service, picked by ARG SERVICE', () => {
      for (const stage of dockerfile.stages)
        expect(dockerfile.lineage(stage)[0]!.image, `stage ${stage.name}`).to.equal('node:20-bookworm-slim');
      expect(dockerfile.globalArgs, 'ARG SERVICE before the first FROM, without a default').to.deep.equal({ SERVICE: '' });
      expect(() => loadDockerfile(DOCKERFILE), 'no SERVICE: FROM ${SERVICE} is blank and the build fails').to.throw(/SERVICE has no value/);
      for (const service of SERVICES) {
        const image = loadDockerfile(DOCKERFILE, { SERVICE: service });
        expect(
          image.lineage(image.final).map((s) => s.name),
          `SERVICE=${service}`,
        ).to.deep.equal(['runtime', service, undefined]);
      }
    });

    it('build stage: every dependency (npm ci), then npm run build (tsc through tsconfig.build.json)', () => {
      const build = runs(dockerfile, 'build');
      expect(build[0])
        .to.match(/^npm ci\b/)
        .and.not.include('--omit');
      expect(lastRun(dockerfile, 'build')).to.equal('npm run build');
      expect((JSON.parse(readRepoFile('package.json')) as { scripts: Record<string, string> }).scripts.build).to.equal(
        'tsx scripts/build/build.ts',
      );
      expect(readRepoFile('scripts/build/build.ts')).to.include("'tsconfig.build.json'");
    });

    it('runtime stage: production dependencies (npm ci --omit=dev) and dist/ from the build stage, nothing else; no tsx', () => {
      const runtime = dockerfile.stages.find((s) => s.name === 'runtime')!;
      expect(runs(dockerfile, 'runtime').join(' ')).to.include('npm ci --omit=dev');
      const copies = dockerfile.copies(runtime);
      expect(copies.filter((c) => !c.from).flatMap((c) => c.sources)).to.have.members(['package.json', 'package-lock.json']);
      expect(copies.filter((c) => c.from).map((c) => [c.from, c.sources])).to.deep.equal([['build', ['dist']]]);
      for (const service of SERVICES) {
        const image = loadDockerfile(DOCKERFILE, { SERVICE: service });
        const text = image
          .lineage(image.final)
          .flatMap((s) => s.instructions)
          .map((i) => i.args)
          .join('\n');
        expect(text, `SERVICE=${service}: the image does not mention tsx`).not.to.match(/\btsx\b/);
        expect(text, `SERVICE=${service}: nor a .ts file`).not.to.match(/\.ts\b/);
      }
    });

    it('copies only files that exist and that .dockerignore leaves in the context', () => {
      const fromContext = dockerfile.stages.flatMap((stage) => dockerfile.copies(stage).filter((c) => !c.from)).flatMap((c) => c.sources);
      expect(fromContext).to.include.members([
        'package.json',
        'package-lock.json',
        'tsconfig.json',
        'tsconfig.build.json',
        'libs',
        'services',
        'scripts',
      ]);
      for (const source of fromContext) {
        expect(existsSync(join(ROOT, source)), `COPY ${source}`).to.equal(true);
        expect(ignoredByDocker(source), `.dockerignore leaves out ${source}`).to.equal(false);
      }
      for (const { from } of dockerfile.stages.flatMap(dockerfile.copies)) {
        if (from)
          expect(
            dockerfile.stages.map((s) => s.name),
            `COPY --from=${from}`,
          ).to.include(from);
      }
      expect(ignoredByDocker('dist/services/inventory/main.js'), "the host's dist/ stays out").to.equal(true);
    });
  });

  describe(`dist/, built from the files ${DOCKERFILE}'s build stage copies, and the runtime stage's files`, function () {
    this.timeout(180_000);
    let image: ImageLayout;
    before(async () => {
      image = await imageLayout();
    });

    it('leave tests and their helpers out of the build context', () => {
      const copied = filesUnder(image.build).filter((f) => !f.startsWith('node_modules/') && !f.startsWith('dist/'));
      expect(copied.filter((f) => /(^|\/)test\//.test(f) || /\.test\.ts$/.test(f))).to.deep.equal([]);
      expect(copied).to.include.members(SERVICES.map((s) => `services/${s}/main.ts`));
    });

    it('compile to dist/ with no test code, with dist/package.json, and the descriptors reflection reads', () => {
      const files = filesUnder(join(image.build, 'dist'));
      expect(
        files.filter((f) => /(^|\/)test(\/|$)/.test(f) || /\.test\.js$/.test(f)),
        'test code in dist/',
      ).to.deep.equal([]);
      expect(
        files.filter((f) => f.endsWith('.ts')),
        'TypeScript in dist/',
      ).to.deep.equal([]);
      for (const service of SERVICES)
        expect(files).to.include.members([`services/${service}/main.js`, `services/${service}/migrations/index.js`]);
      expect(files).to.include.members(['scripts/migrate.js', 'scripts/healthcheck.js', 'libs/contracts/descriptors.binpb']);
      expect(JSON.parse(readFileSync(join(image.build, 'dist/package.json'), 'utf8'))).to.deep.equal({
        type: 'module',
        imports: { '#libs/*': './libs/*' },
      });
      expect(readFileSync(join(image.build, 'dist/libs/contracts/descriptors.binpb'))).to.deep.equal(
        readFileSync(join(ROOT, 'libs/contracts/descriptors.binpb')),
      );
    });

    it('lay out the runtime stage: the package files, dist/ and production packages only (no tsx, no typescript)', () => {
      expect(readdirSync(image.runtime).sort()).to.deep.equal(['dist', 'node_modules', 'package-lock.json', 'package.json']);
      const modules = join(image.runtime, 'node_modules');
      for (const dev of ['tsx', 'typescript', 'mocha', 'esbuild']) expect(existsSync(join(modules, dev)), dev).to.equal(false);
      for (const dependency of Object.keys((JSON.parse(readRepoFile('package.json')) as { dependencies: object }).dependencies)) {
        expect(existsSync(join(modules, dependency)), dependency).to.equal(true);
      }
    });
  });
}

// ---------- one service ----------

export function describeServiceContainer(spec: ServiceContainer): void {
  const { name } = spec;
  const compose = loadCompose();
  const job = `migrate-${name}`;
  const databaseVariable = `${name.toUpperCase()}_DATABASE_URL`;
  const dockerfile = loadDockerfile(DOCKERFILE, { SERVICE: name });
  const env = () => compose.environment(name);

  describe(`docker-compose.yml: ${name} and ${job}`, () => {
    it(`builds both from ${DOCKERFILE} with SERVICE=${name}, with the repository root as context`, () => {
      for (const service of [job, name]) {
        const { context, dockerfile, args } = compose.build(service);
        expect(existsSync(join(ROOT, context, 'package.json')), `${service}: context ${context} is the repository root`).to.equal(true);
        expect(dockerfile, service).to.equal(DOCKERFILE);
        expect(args, service).to.deep.equal({ SERVICE: name });
      }
    });

    it(`runs dist/scripts/migrate.js ${name} once, with ${databaseVariable} only, after postgres is healthy`, () => {
      expect(words(compose.service(job).command)).to.deep.equal(['node', 'dist/scripts/migrate.js', name]);
      expect(compose.service(job).restart).to.equal('no');
      expect(compose.service(job).healthcheck?.disable, 'the image HEALTHCHECK asks a gRPC server the job does not run').to.equal(true);
      expect(Object.keys(compose.environment(job))).to.deep.equal([databaseVariable]);
      expect(readRepoFile('scripts/migrate.ts')).to.include(`process.env.${databaseVariable}`);
      expect(compose.dependsOn(job)).to.deep.equal({ postgres: 'service_healthy' });
    });

    it('sets every variable the service needs in production, and the service accepts them', () => {
      for (const variable of REQUIRED) expect(env()[variable], variable).to.be.a('string').and.not.equal('');
      expect(env().NODE_ENV).to.equal('production');

      const config = spec.readConfig(env());
      expect(config.production).to.equal(true);
      expect(config.grpcPort).to.equal(Number(env().GRPC_PORT));
      expect(config.metricsPort).to.equal(Number(env().METRICS_PORT));
      expect(config.tls).to.equal(undefined);
      const developmentKeys = keysOf(spec.developmentApiKeys);
      for (const key of config.apiKeys) expect(developmentKeys, `key "${key.name}" is not a development key`).not.to.include(key.key);
      expect(
        config.apiKeys.some((k) => k.scopes.has('*')),
        'an admin key',
      ).to.equal(true);

      // The same environment without API_KEYS is refused: production really is on.
      const { API_KEYS: _keys, ...withoutKeys } = env();
      expect(() => spec.readConfig(withoutKeys)).to.throw(ConfigError, /API_KEYS/);
    });

    it('names only variables the code reads, and nothing compose would interpolate', () => {
      const known = variablesReadByCode(['libs/config/common.ts', `services/${name}/config.ts`]);
      expect(known).to.include.members([...REQUIRED, 'LOG_LEVEL']);
      for (const [variable, value] of Object.entries(env())) {
        expect(known.has(variable), `${name} reads ${variable}`).to.equal(true);
        expect(value, `${variable} has no $ (compose interpolates it)`).not.to.include('$');
      }
    });

    it(`points both database URLs at larder_${name} on the postgres service, and NATS_URL at the nats service`, () => {
      const jobUrl = new URL(compose.environment(job)[databaseVariable]!);
      const serviceUrl = new URL(env().DATABASE_URL!);
      expect(jobUrl.href, `${job} prepares the database the service uses`).to.equal(serviceUrl.href);
      expect(serviceUrl.hostname).to.equal('postgres');
      expect(serviceUrl.port || '5432').to.equal('5432');
      expect(serviceUrl.pathname).to.equal(`/larder_${name}`);
      const pg = compose.environment('postgres');
      expect(decodeURIComponent(serviceUrl.username)).to.equal(pg.POSTGRES_USER ?? 'postgres');
      if (pg.POSTGRES_HOST_AUTH_METHOD !== 'trust') expect(decodeURIComponent(serviceUrl.password)).to.equal(pg.POSTGRES_PASSWORD);

      const natsUrl = new URL(env().NATS_URL!);
      expect(natsUrl.hostname).to.equal('nats');
      expect(natsUrl.port || '4222').to.equal('4222');
    });

    it('publishes the gRPC and metrics ports the service listens on, and no other service publishes them', () => {
      const grpcPort = Number(env().GRPC_PORT);
      const metricsPort = Number(env().METRICS_PORT);
      expect(grpcPort).not.to.equal(metricsPort);
      expect(compose.ports(name)).to.have.deep.members([
        { published: grpcPort, target: grpcPort },
        { published: metricsPort, target: metricsPort },
      ]);
      for (const other of Object.keys(compose.services).filter((s) => s !== name)) {
        const clashes = compose.ports(other).filter((p) => p.published === grpcPort || p.published === metricsPort);
        expect(clashes, `${other} publishes none of ${name}'s ports`).to.deep.equal([]);
      }
    });

    it('starts gated on health: postgres and nats healthy, its migrations finished', () => {
      expect(compose.dependsOn(name)).to.deep.equal({
        postgres: 'service_healthy',
        nats: 'service_healthy',
        [job]: 'service_completed_successfully',
        ...spec.alsoDependsOn,
      });
      for (const [dependency, condition] of Object.entries(compose.dependsOn(name))) {
        if (condition !== 'service_healthy') continue;
        const check = compose.service(dependency).healthcheck;
        expect(check?.disable, `${dependency} has a health check`).not.to.equal(true);
        const build = compose.service(dependency).build ? compose.build(dependency) : undefined;
        const image = build ? loadDockerfile(build.dockerfile, build.args).healthcheck() : undefined;
        expect(words(check?.test).length > 1 || image !== undefined, `${dependency}: healthcheck in compose or its image`).to.equal(true);
      }
    });

    it('restarts unless stopped, and gives SIGTERM longer than SHUTDOWN_GRACE_MS plus OUTBOX_DRAIN_MS', () => {
      expect(compose.service(name).restart).to.equal('unless-stopped');
      const grace = /^(\d+)s$/.exec(String(compose.service(name).stop_grace_period));
      expect(grace, 'stop_grace_period in seconds').to.not.equal(null);
      // The calls finish, then the relay publishes what is committed: a SIGKILL before both are done loses the drain.
      const { shutdownGraceMs, outboxDrainMs } = spec.readConfig(env());
      expect(Number(grace![1]) * 1_000).to.be.greaterThan(shutdownGraceMs + outboxDrainMs);
    });
  });

  describe(`${DOCKERFILE} with SERVICE=${name}`, () => {
    it('runs as a non-root user', () => {
      const user = dockerfile.user();
      expect(user, 'USER in the final stage').to.be.a('string');
      expect(['root', '0']).not.to.include(user);
    });

    it(`runs node dist/services/${name}/main.js (no tsx), in production, on the GRPC_PORT compose uses, exposing gRPC and metrics`, () => {
      expect(dockerfile.cmd()).to.deep.equal(['node', `dist/services/${name}/main.js`]);
      expect(existsSync(join(ROOT, `services/${name}/main.ts`)), 'its source').to.equal(true);
      const imageEnv = dockerfile.env();
      expect(imageEnv.NODE_ENV).to.equal('production');
      expect(imageEnv.GRPC_PORT).to.equal(env().GRPC_PORT);
      const defaults = spec.readConfig({});
      expect(dockerfile.exposed()).to.have.members([imageEnv.GRPC_PORT!, String(defaults.metricsPort)]);
      expect(String(defaults.metricsPort), 'METRICS_PORT in compose is the default').to.equal(env().METRICS_PORT);
      expect(String(defaults.grpcPort), 'GRPC_PORT in the image is the default').to.equal(imageEnv.GRPC_PORT);
    });

    it('has a HEALTHCHECK running dist/scripts/healthcheck.js (scripts/healthcheck.ts compiled)', () => {
      expect(dockerfile.healthcheck()).to.deep.equal(['node', 'dist/scripts/healthcheck.js']);
      expect(existsSync(join(ROOT, 'scripts/healthcheck.ts'))).to.equal(true);
    });
  });

  describe(`the ${name} image's files (dist/ built from the build stage's copies), run as the image runs them`, function () {
    this.timeout(180_000);
    let image: ImageLayout;
    let database: TestDatabase | undefined;
    before(async () => {
      image = await imageLayout();
      database = await createTestDatabase(`image_${name}`);
    });
    after(async () => {
      await database?.drop();
    });

    it(`migrate a fresh database with node dist/scripts/migrate.js ${name}, touching no other service's`, async () => {
      const [command, ...args] = words(compose.service(job).command);
      expect(command).to.equal('node');
      const run = await runNode(args, { cwd: image.runtime, env: migrateEnv(name, database!.url), timeoutMs: 60_000 });
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stdout.trim()).to.equal(`${name}: applied ${spec.migrations.map((m) => m.name).join(', ')}`);
      const applied = await database!.db('knex_migrations').orderBy('id').pluck('name');
      expect(applied).to.deep.equal(spec.migrations.map((m) => m.name));
      const tables = await database!.db('information_schema.tables').where({ table_schema: 'public' }).pluck('table_name');
      expect(tables).to.include.members([...spec.tables]);
    });

    it(`serve ${name} with its CMD and compose's environment: SERVING, reflection, the HEALTHCHECK passes, SIGTERM to its PID stops it`, async () => {
      const [grpcPort, metricsPort] = [await freePort(), await freePort()];
      const variables = {
        ...env(),
        DATABASE_URL: database!.url,
        NATS_URL: testNatsUrl(),
        GRPC_HOST: '127.0.0.1',
        GRPC_PORT: String(grpcPort),
        METRICS_PORT: String(metricsPort),
        LOG_LEVEL: 'warn',
        ...(await spec.localEnv?.()),
      };
      const [command, ...args] = dockerfile.cmd();
      expect(command).to.equal('node');
      const child = spawn(process.execPath, args, { cwd: image.runtime, env: containerEnv(variables), stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.once('exit', (code, signal) => resolve({ code, signal })),
      );
      try {
        const address = `127.0.0.1:${grpcPort}`;
        const serving = await Promise.race([waitUntilServing(address, 30_000), exited.then(() => false)]);
        expect(serving, `SERVING on ${address}; output:\n${output}`).to.equal(true);

        const listed = await reflect(address, { listServices: '' });
        expect(listed.listServicesResponse?.service.map((s) => s.name)).to.include.members([
          ...spec.grpcServices,
          'grpc.health.v1.Health',
          'grpc.reflection.v1.ServerReflection',
        ]);
        const descriptors = await reflect(address, { fileContainingSymbol: spec.grpcServices[0]! });
        expect(descriptors.fileDescriptorResponse?.fileDescriptorProto.length, 'descriptors from dist/libs/contracts').to.be.greaterThan(0);

        const [checkCommand, ...checkArgs] = dockerfile.healthcheck()!;
        expect(checkCommand).to.equal('node');
        const check = await runNode(checkArgs, { cwd: image.runtime, env: containerEnv(variables) });
        expect(check.code, check.stderr).to.equal(0);
        expect(check.stdout).to.match(/: SERVING\b/);
      } finally {
        if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGTERM');
      }
      const timeout = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const { code, signal } = await exited;
      clearTimeout(timeout);
      expect({ code, signal }, `stops gracefully on SIGTERM; output:\n${output}`).to.deep.equal({ code: 0, signal: null });
    });
  });
}
