import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { ConfigError } from '#libs/config/env.js';
import { parseApiKeys } from '#libs/grpc/auth.js';
import { loadCompose, readRepoFile, ROOT, variablesReadByCode, words, type ComposeService } from '../support/container-files.js';
import { runProcess } from '../support/run-process.js';
import { readInventoryConfig } from '../../services/inventory/config.js';
import { INVENTORY_SCOPES } from '../../services/inventory/transport/scopes.js';
import { readOrderConfig } from '../../services/order/config.js';

/**
 * docker-compose.cluster.yml, statically (no Docker engine here): three NATS
 * nodes whose configs route to each other, PgBouncer in transaction mode in
 * front of PostgreSQL, the migrations before the services, and two replicas of
 * each service configured as their code reads it. Lives at the top level as
 * compose-wiring.test.ts does: it checks both services' configuration at once.
 */

const FILE = 'docker-compose.cluster.yml';
const compose = loadCompose(FILE);
const SERVICES = { inventory: readInventoryConfig, order: readOrderConfig } as const;
type ServiceName = keyof typeof SERVICES;
const NAMES = Object.keys(SERVICES) as ServiceName[];
const NATS_NODES = Object.keys(compose.services).filter((s) => /^nats-\d+$/.test(s));
const PASSWORD = compose.environment('postgres').POSTGRES_PASSWORD!;

interface Deployed extends ComposeService {
  deploy?: { replicas?: number };
}
const replicasOf = (name: string) => (compose.service(name) as Deployed).deploy?.replicas ?? 1;

/** Source files that ship (no tests): where a service may read its environment. */
function shippedSources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'test' || entry.name === 'contracts' ? [] : shippedSources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** `host-port range:target` (or `host:target`) as numbers. */
function portRanges(name: string): { from: number; to: number; target: number }[] {
  return (compose.service(name).ports ?? []).map((spec) => {
    const [published = '', target = ''] = String(spec).split(':').slice(-2);
    const [from, to = from] = published.split('-').map(Number) as [number, number?];
    return { from, to: to!, target: Number(target) };
  });
}

/** A mounted host file (`./path:/in/container[:ro]`) by its container path. */
function mountedFile(service: string, containerPath: string): string | undefined {
  for (const volume of compose.service(service).volumes ?? []) {
    const [source, target] = String(volume).split(':');
    if (target === containerPath && source!.startsWith('./')) return source!.slice(2);
  }
  return undefined;
}

const natsConfigOf = (node: string) => {
  const command = words(compose.service(node).command);
  const path = mountedFile(node, command[command.indexOf('-c') + 1]!);
  expect(path, `${node} mounts the config its command names`).to.be.a('string');
  return { path: path!, text: readRepoFile(path!) };
};

/** PgBouncer's ini as section → key → value. */
function pgbouncerIni(): Record<string, Record<string, string>> {
  const path = mountedFile('pgbouncer', '/etc/pgbouncer/pgbouncer.ini');
  expect(path, 'pgbouncer mounts its ini').to.be.a('string');
  const ini: Record<string, Record<string, string>> = {};
  let section = '';
  for (const line of readRepoFile(path!).split('\n')) {
    const text = line.replace(/[;#].*$/, '').trim();
    const header = /^\[(\w+)\]$/.exec(text);
    if (header) ini[(section = header[1]!)] = {};
    else if (text.includes('=')) ini[section]![text.slice(0, text.indexOf('=')).trim()] = text.slice(text.indexOf('=') + 1).trim();
  }
  return ini;
}

describe(`${FILE}: the cluster example`, () => {
  describe('NATS: three nodes, one cluster', () => {
    it('runs three nats:2.9 nodes, each with its own config and data volume', () => {
      expect(NATS_NODES).to.deep.equal(['nats-1', 'nats-2', 'nats-3']);
      for (const node of NATS_NODES) {
        expect(compose.service(node).image).to.match(/^nats:2\.9(-alpine)?$/);
        expect(natsConfigOf(node).path).to.equal(`deploy/nats/${node}.conf`);
      }
    });

    it("each config names its node, stores JetStream on the node's volume, and routes to the other two", () => {
      for (const node of NATS_NODES) {
        const { text } = natsConfigOf(node);
        expect(/^server_name:\s*(\S+)/m.exec(text)?.[1], node).to.equal(node);
        expect(/^\s*name:\s*(\S+)/m.exec(text)?.[1], `${node}: cluster name`).to.equal('larder');
        const clusterPort = /cluster\s*{[\s\S]*?listen:\s*[\d.]+:(\d+)/.exec(text)?.[1];
        expect(clusterPort, `${node}: cluster listen port`).to.be.a('string');
        const routes = [...text.matchAll(/nats-route:\/\/([\w-]+):(\d+)/g)].map((m) => ({ host: m[1]!, port: m[2]! }));
        expect(routes.map((r) => r.host).sort(), `${node}: routes`).to.deep.equal(NATS_NODES.filter((n) => n !== node));
        for (const route of routes) expect(route.port, `${node} → ${route.host}`).to.equal(clusterPort);
        const storeDir = /store_dir:\s*(\S+)/.exec(text)?.[1];
        const dataVolume = (compose.service(node).volumes ?? []).map(String).find((v) => !v.startsWith('./'));
        expect(dataVolume, `${node}: a named data volume`).to.be.a('string');
        expect(storeDir!.startsWith(dataVolume!.split(':')[1]!), `${node}: store_dir ${storeDir} on the volume`).to.equal(true);
        expect(/^http:\s*[\d.]*:?(\d+)/m.exec(text)?.[1], `${node}: monitoring port the health check asks`).to.equal('8222');
        expect(words(compose.service(node).healthcheck?.test)).to.include('http://127.0.0.1:8222/healthz');
      }
    });

    it('nats-server 2.9 accepts every config (nats-server -t)', async function () {
      const bin = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server';
      if (!existsSync(bin)) this.skip();
      for (const node of NATS_NODES) {
        const run = await runProcess(bin, ['-c', join(ROOT, natsConfigOf(node).path), '-t'], { timeoutMs: 10_000 });
        expect(run.code, `${node}: ${run.stderr}${run.stdout}`).to.equal(0);
      }
    });
  });

  describe('PgBouncer in front of PostgreSQL', () => {
    it('pools in transaction mode on the databases of both services, on the postgres service, once postgres is healthy', () => {
      const ini = pgbouncerIni();
      expect(ini.pgbouncer!.pool_mode).to.equal('transaction');
      for (const name of NAMES) {
        const entry = ini.databases![`larder_${name}`];
        expect(entry, `[databases] larder_${name}`).to.be.a('string');
        expect(entry)
          .to.match(/host=postgres\b/)
          .and.match(new RegExp(`dbname=larder_${name}\\b`));
      }
      expect(compose.dependsOn('pgbouncer')).to.deep.equal({ postgres: 'service_healthy' });
      expect(words(compose.service('pgbouncer').healthcheck?.test).join(' ')).to.include(ini.pgbouncer!.listen_port!);
      const userlist = mountedFile('pgbouncer', ini.pgbouncer!.auth_file!);
      expect(userlist, 'the auth_file is mounted').to.be.a('string');
      expect(readRepoFile(userlist!)).to.include(`"postgres" "${PASSWORD}"`);
    });
  });

  describe('the migrations: one-shot jobs before the services', () => {
    for (const name of NAMES) {
      it(`migrate-${name} runs dist/scripts/migrate.js ${name} once, straight on PostgreSQL`, () => {
        const job = `migrate-${name}`;
        expect(compose.build(job)).to.deep.equal({ context: '.', dockerfile: 'Dockerfile', args: { SERVICE: name } });
        expect(words(compose.service(job).command)).to.deep.equal(['node', 'dist/scripts/migrate.js', name]);
        expect(compose.service(job).restart).to.equal('no');
        expect(compose.service(job).healthcheck?.disable).to.equal(true);
        expect(compose.dependsOn(job)).to.deep.equal({ postgres: 'service_healthy' });
        const url = new URL(compose.environment(job)[`${name.toUpperCase()}_DATABASE_URL`]!);
        // It creates the database first, connected to "postgres", which PgBouncer does not serve.
        expect([url.hostname, url.port, url.pathname, decodeURIComponent(url.password)]).to.deep.equal([
          'postgres',
          '5432',
          `/larder_${name}`,
          PASSWORD,
        ]);
      });
    }
  });

  for (const name of NAMES) {
    describe(`${name}: two replicas`, () => {
      const env = () => compose.environment(name);

      it(`builds from the root Dockerfile with SERVICE=${name} and runs 2 replicas`, () => {
        expect(compose.build(name)).to.deep.equal({ context: '.', dockerfile: 'Dockerfile', args: { SERVICE: name } });
        expect(replicasOf(name)).to.equal(2);
      });

      it('names only variables the code reads, and the service accepts them in production', () => {
        const known = variablesReadByCode([...shippedSources('libs'), ...shippedSources(`services/${name}`)]);
        for (const [variable, value] of Object.entries(env())) {
          expect(known.has(variable), `${name} reads ${variable}`).to.equal(true);
          expect(value, `${variable} has no $ (compose interpolates it)`).not.to.include('$');
        }
        const config = SERVICES[name](env());
        expect(config.production).to.equal(true);
        expect(config.dbPreparedStatements, 'no named statements through PgBouncer 1.18').to.equal(false);
        const { API_KEYS: _keys, ...withoutKeys } = env();
        expect(() => SERVICES[name](withoutKeys)).to.throw(ConfigError, /API_KEYS/);
      });

      it('reaches its database through pgbouncer, every NATS node, and replicates streams on all three', () => {
        const ini = pgbouncerIni();
        const url = new URL(env().DATABASE_URL!);
        expect([url.hostname, url.port, url.pathname]).to.deep.equal(['pgbouncer', ini.pgbouncer!.listen_port, `/larder_${name}`]);
        expect(decodeURIComponent(url.password)).to.equal(PASSWORD);
        expect(env().DATABASE_PREPARED_STATEMENTS).to.equal('false');
        expect(env().NATS_URL!.split(',')).to.deep.equal(NATS_NODES.map((n) => `nats://${n}:4222`));
        expect(env().NATS_STREAM_REPLICAS).to.equal(String(NATS_NODES.length));
      });

      it('starts once pgbouncer and every NATS node are healthy and its migrations finished', () => {
        const expected: Record<string, string> = { pgbouncer: 'service_healthy', [`migrate-${name}`]: 'service_completed_successfully' };
        for (const node of NATS_NODES) expected[node] = 'service_healthy';
        if (name === 'order') expected.inventory = 'service_healthy';
        expect(compose.dependsOn(name)).to.deep.equal(expected);
        for (const [dependency, condition] of Object.entries(compose.dependsOn(name))) {
          if (condition === 'service_healthy' && !compose.service(dependency).build) {
            expect(words(compose.service(dependency).healthcheck?.test).length, `${dependency} has a health check`).to.be.greaterThan(1);
          }
        }
        expect(compose.service(name).restart).to.equal('unless-stopped');
        expect(compose.service(name).stop_grace_period).to.equal('20s');
      });

      it('publishes gRPC on one host port per replica, and no published port clashes with another service', () => {
        const ranges = portRanges(name);
        expect(ranges).to.have.length(1);
        expect(ranges[0]!.target).to.equal(Number(env().GRPC_PORT));
        expect(ranges[0]!.to - ranges[0]!.from + 1).to.equal(replicasOf(name));
        for (const other of Object.keys(compose.services).filter((s) => s !== name)) {
          for (const theirs of portRanges(other)) {
            expect(theirs.to < ranges[0]!.from || theirs.from > ranges[0]!.to, `${other} publishes none of ${name}'s ports`).to.equal(true);
          }
        }
      });
    });
  }

  describe('order → inventory', () => {
    it('resolves every inventory replica under one DNS name: dns:///inventory:<its GRPC_PORT>', () => {
      const address = readOrderConfig(compose.environment('order')).inventoryAddress;
      expect(address).to.equal(`dns:///inventory:${compose.environment('inventory').GRPC_PORT}`);
      expect(replicasOf('inventory')).to.be.greaterThan(1);
    });

    it("sends an INVENTORY_API_KEY the inventory's API_KEYS grant reservations, stock.write and catalog.read", () => {
      const key = readOrderConfig(compose.environment('order')).inventoryApiKey;
      const entry = parseApiKeys(compose.environment('inventory').API_KEYS!, INVENTORY_SCOPES).find((k) => k.key === key);
      expect(entry, "one of the inventory's keys").to.not.equal(undefined);
      for (const scope of ['catalog.read', 'reservations', 'stock.write']) expect(entry!.scopes.has(scope), scope).to.equal(true);
    });
  });

  it('mounts only files that exist', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const volume of (service.volumes ?? []).map(String).filter((v) => v.startsWith('./'))) {
        const path = volume.split(':')[0]!.slice(2);
        expect(existsSync(join(ROOT, path)), `${name}: ${path}`).to.equal(true);
      }
    }
  });
});
