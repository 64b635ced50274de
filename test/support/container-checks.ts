import { existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { CommonConfig } from '#libs/config/common.js';
import { ConfigError, type Env } from '#libs/config/env.js';
import type { Migration } from '#libs/db/migrate.js';
import { createTestDatabase } from './test-database.js';
import {
  assembleStage,
  ignoredByDocker,
  loadCompose,
  loadDockerfile,
  readRepoFile,
  ROOT,
  runNode,
  variablesReadByCode,
  words,
} from './container-files.js';

/**
 * The checks every Larder service's container files must pass, without a
 * Docker engine, as mocha suites. A service `name` has its code in
 * services/<name>/, its image built from services/<name>/Dockerfile, a compose
 * service <name> and a one-shot compose job migrate-<name> running
 * `scripts/migrate.ts <name>` with <NAME>_DATABASE_URL, on database larder_<name>.
 */
export interface ServiceContainer {
  name: string;
  readConfig(env: Env): CommonConfig;
  /** The service's DEVELOPMENT_API_KEYS: compose must not use them. */
  developmentApiKeys: string;
  migrations: readonly Migration[];
  /** Tables its migrations create (some of them). */
  tables: readonly string[];
  /** Compose services it waits for besides postgres, nats and its migrate job, with the condition. */
  alsoDependsOn?: Record<string, string>;
}

/** Variables every service needs set in compose (production refuses the development keys). */
const REQUIRED = ['NODE_ENV', 'API_KEYS', 'DATABASE_URL', 'NATS_URL', 'GRPC_PORT', 'METRICS_PORT'];

/** Where a script's database URL points when it must not be touched: nothing listens on port 1. */
const UNREACHABLE_DATABASE = 'postgres://postgres@127.0.0.1:1/larder_must_not_be_touched';

/** The keys of an API_KEYS text (entries `name=key:scopes`). */
const keysOf = (text: string): string[] =>
  text
    .split(';')
    .filter(Boolean)
    .map((entry) => entry.split('=')[1]!.split(':')[0]!);

/** The environment for a scripts/migrate.ts run: `database` for `name`, every other service's unreachable. */
function migrateEnv(services: readonly string[], name: string, database: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const service of services) env[`${service.toUpperCase()}_DATABASE_URL`] = UNREACHABLE_DATABASE;
  env[`${name.toUpperCase()}_DATABASE_URL`] = database;
  return env;
}

export function describeServiceContainer(spec: ServiceContainer): void {
  const { name } = spec;
  const compose = loadCompose();
  const job = `migrate-${name}`;
  const databaseVariable = `${name.toUpperCase()}_DATABASE_URL`;
  const dockerfilePath = `services/${name}/Dockerfile`;
  const dockerfile = loadDockerfile(dockerfilePath);
  const services = readdirSync(join(ROOT, 'services'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name);
  const others = services.filter((service) => service !== name);
  const env = () => compose.environment(name);

  describe(`docker-compose.yml: ${name} and ${job}`, () => {
    it(`builds both from ${dockerfilePath}, with the repository root as context`, () => {
      for (const service of [job, name]) {
        const { context, dockerfile } = compose.build(service);
        expect(existsSync(join(ROOT, context, 'package.json')), `${service}: context ${context} is the repository root`).to.equal(true);
        expect(dockerfile, service).to.equal(dockerfilePath);
      }
    });

    it(`runs scripts/migrate.ts ${name} once, with ${databaseVariable} only, after postgres is healthy`, () => {
      expect(words(compose.service(job).command)).to.deep.equal(['node', '--import', 'tsx', 'scripts/migrate.ts', name]);
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
        const image = compose.service(dependency).build ? loadDockerfile(compose.build(dependency).dockerfile).healthcheck() : undefined;
        expect(words(check?.test).length > 1 || image !== undefined, `${dependency}: healthcheck in compose or its image`).to.equal(true);
      }
    });

    it('restarts unless stopped, and gives SIGTERM longer than SHUTDOWN_GRACE_MS', () => {
      expect(compose.service(name).restart).to.equal('unless-stopped');
      const grace = /^(\d+)s$/.exec(String(compose.service(name).stop_grace_period));
      expect(grace, 'stop_grace_period in seconds').to.not.equal(null);
      expect(Number(grace![1]) * 1_000).to.be.greaterThan(spec.readConfig(env()).shutdownGraceMs);
    });
  });

  describe(dockerfilePath, () => {
    it('is built on node:20-bookworm-slim in stages', () => {
      expect(dockerfile.stages.length).to.be.greaterThan(1);
      for (const stage of dockerfile.stages) expect(stage.image).to.equal('node:20-bookworm-slim');
    });

    it('runs as a non-root user', () => {
      const user = dockerfile.user();
      expect(user, 'USER in the final stage').to.be.a('string');
      expect(['root', '0']).not.to.include(user);
    });

    it('runs the service with tsx, in production, on the GRPC_PORT compose uses, exposing gRPC and metrics', () => {
      const cmd = dockerfile.cmd();
      expect(cmd).to.deep.equal(['node', '--import', 'tsx', `services/${name}/main.ts`]);
      expect(existsSync(join(ROOT, cmd[3]!))).to.equal(true);
      const imageEnv = dockerfile.env();
      expect(imageEnv.NODE_ENV).to.equal('production');
      expect(imageEnv.GRPC_PORT).to.equal(env().GRPC_PORT);
      const defaults = spec.readConfig({});
      expect(dockerfile.exposed()).to.have.members([imageEnv.GRPC_PORT!, String(defaults.metricsPort)]);
      expect(String(defaults.metricsPort), 'METRICS_PORT in compose is the default').to.equal(env().METRICS_PORT);
      expect(String(defaults.grpcPort), 'GRPC_PORT in the image is the default').to.equal(imageEnv.GRPC_PORT);
    });

    it('has a HEALTHCHECK running scripts/healthcheck.ts', () => {
      expect(dockerfile.healthcheck()).to.deep.equal(['node', '--import', 'tsx', 'scripts/healthcheck.ts']);
      expect(existsSync(join(ROOT, 'scripts/healthcheck.ts'))).to.equal(true);
    });

    it('copies only files that exist and that .dockerignore leaves in the context', () => {
      const fromContext = dockerfile.stages.flatMap((stage) => dockerfile.copies(stage).filter((c) => !c.from)).flatMap((c) => c.sources);
      expect(fromContext.length).to.be.greaterThan(0);
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
    });

    it(`puts proto/, libs/, services/${name}/, the scripts it runs and the package files into the image, and no other service`, () => {
      const required = [
        'package.json',
        'package-lock.json',
        'tsconfig.json',
        'proto',
        'libs',
        'scripts/migrate.ts',
        'scripts/healthcheck.ts',
        `services/${name}`,
      ];
      const finalCopies = dockerfile.copies(dockerfile.final);
      for (const path of required) {
        const folder = path.slice(0, path.lastIndexOf('/'));
        const copy = finalCopies.find((c) => c.sources.includes(path) || (folder && c.sources.includes(folder)));
        expect(copy, `final stage copies ${path}`).to.not.equal(undefined);
        if (copy!.from) {
          const stage = dockerfile.stages.find((s) => s.name === copy!.from)!;
          expect(
            dockerfile.copies(stage).some((c) => !c.from && (c.sources.includes(path) || (folder !== '' && c.sources.includes(folder)))),
            `stage ${copy!.from} copies ${path} from the context`,
          ).to.equal(true);
        }
      }
      const fromContext = dockerfile.stages
        .flatMap(dockerfile.copies)
        .filter((c) => !c.from)
        .flatMap((c) => c.sources);
      for (const other of others) {
        expect(
          fromContext.filter((source) => source === '.' || source === 'services' || source.startsWith(`services/${other}`)),
          `copies of services/${other}/`,
        ).to.deep.equal([]);
      }
      expect(fromContext, 'scripts/ as a whole (start, seed, demos… import every service)').not.to.include('scripts');
      expect(existsSync(join(ROOT, 'libs/contracts/descriptors.binpb')), 'read at run time by reflection').to.equal(true);
    });

    it('installs production dependencies plus tsx at the version package-lock.json pins', () => {
      const modules = dockerfile.copies(dockerfile.final).find((c) => c.sources.includes('node_modules'));
      expect(modules?.from, 'node_modules comes from a dependency stage').to.be.a('string');
      const install = dockerfile.stages
        .find((s) => s.name === modules!.from)!
        .instructions.filter((i) => i.keyword === 'RUN')
        .map((i) => i.args)
        .join(' ');
      expect(install).to.include('npm ci --omit=dev');
      expect(install).to.include('dependencies.tsx');
      const lock = JSON.parse(readRepoFile('package-lock.json')) as { packages: Record<string, { version?: string }> };
      expect(lock.packages['node_modules/tsx']?.version, 'tsx in package-lock.json').to.match(/^\d+\.\d+\.\d+/);
    });
  });

  describe(`the files the ${name} image's build stage copies, laid out as in the image`, function () {
    this.timeout(180_000);
    let dir = '';
    before(() => {
      dir = mkdtempSync(join(tmpdir(), `larder-image-${name}-`));
      assembleStage(dockerfile, 'build', dir);
      // The stage's `npm ci`; the host's node_modules holds the same lockfile's packages.
      symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    });
    after(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it(`hold services/${name}/ without its tests, no other service, and only the scripts the image runs`, () => {
      expect(readdirSync(join(dir, 'services'))).to.deep.equal([name]);
      expect(existsSync(join(dir, `services/${name}/main.ts`))).to.equal(true);
      expect(existsSync(join(dir, `services/${name}/test`)), 'tests stay out (.dockerignore)').to.equal(false);
      expect(existsSync(join(dir, 'test')), 'test helpers stay out (.dockerignore)').to.equal(false);
      expect(readdirSync(join(dir, 'scripts')).sort()).to.deep.equal(['healthcheck.ts', 'migrate.ts']);
      expect(existsSync(join(dir, 'libs/contracts/descriptors.binpb'))).to.equal(true);
    });

    it('type-check, as the build stage does (npx tsc --noEmit -p .)', async () => {
      expect(
        dockerfile.stages
          .find((s) => s.name === 'build')!
          .instructions.some((i) => i.keyword === 'RUN' && i.args === 'npx tsc --noEmit -p .'),
      ).to.equal(true);
      const run = await runNode([join(ROOT, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', '.'], { cwd: dir, timeoutMs: 170_000 });
      expect(run.code, `${run.stdout}${run.stderr}`).to.equal(0);
    });

    it(`migrate a fresh database with scripts/migrate.ts ${name}, touching no other service's`, async () => {
      const database = await createTestDatabase(`migrate_${name}`);
      try {
        const run = await runNode(['--import', 'tsx', 'scripts/migrate.ts', name], {
          cwd: dir,
          env: migrateEnv(services, name, database.url),
          timeoutMs: 60_000,
        });
        expect(run.code, run.stderr).to.equal(0);
        expect(run.stdout.trim()).to.equal(`${name}: applied ${spec.migrations.map((m) => m.name).join(', ')}`);
        const applied = await database.db('knex_migrations').orderBy('id').pluck('name');
        expect(applied).to.deep.equal(spec.migrations.map((m) => m.name));
        const tables = await database.db('information_schema.tables').where({ table_schema: 'public' }).pluck('table_name');
        expect(tables).to.include.members([...spec.tables]);
      } finally {
        await database.drop();
      }
    });

    for (const other of others) {
      it(`cannot migrate ${other}: exits 1 saying services/${other}/ is not in this image`, async () => {
        const run = await runNode(['--import', 'tsx', 'scripts/migrate.ts', other], {
          cwd: dir,
          env: migrateEnv(services, name, UNREACHABLE_DATABASE),
          timeoutMs: 60_000,
        });
        expect(run.code).to.equal(1);
        expect(run.stderr).to.include(`services/${other}/ is not here`);
      });
    }
  });
}
