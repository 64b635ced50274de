/**
 * `npm start`: runs the whole system locally. Creates and migrates the
 * databases, seeds the demo catalog when it is empty, starts every service as
 * its own process, waits until each reports SERVING, and prints how to call
 * them. Ctrl-C (or SIGTERM) stops them gracefully. Which variables it honours,
 * and which it refuses, is in start/settings.ts (and the README's Configuration).
 * With NODE_ENV=production the services run compiled, from dist/ on plain node
 * as in their images (built first, with npm run build, when dist/ lacks them);
 * otherwise their TypeScript runs through tsx.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createDatabase } from '#libs/db/knex.js';
import { waitUntilServing } from '#libs/grpc/health-probe.js';
import { migrateAll, DATABASES } from './migrate.js';
import { preflight } from './preflight.js';
import { seedInventory } from './seed.js';
import { banner } from './start/banner.js';
import { takenPorts } from './start/ports.js';
import { readStartSettings, StartSettingsError, type StartService } from './start/settings.js';
import { DEV_TOKEN_ENV, mintDevToken, usesDevTokens } from './token/dev-token.js';

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const inventoryDb = DATABASES.find((d) => d.service === 'inventory')!.url;
const orderDb = DATABASES.find((d) => d.service === 'order')!.url;

/** Refuses (exit 2, like a service's bad configuration) what cannot work under npm start. */
function readSettings(): StartService[] {
  try {
    return readStartSettings(process.env);
  } catch (error) {
    if (!(error instanceof StartSettingsError)) throw error;
    console.error(`Larder cannot start:\n\n${error.problems.map((p) => `  ${p}`).join('\n')}\n\nSee "Configuration" in README.md.`);
    process.exit(2);
  }
}

/**
 * NODE_ENV=production runs dist/: builds it (npm run build's script) when an
 * entry is missing. An existing dist/ is used as it is: rebuild after changes.
 */
function buildIfMissing(services: StartService[]): void {
  if (!services.some((s) => s.compiled)) return;
  const missing = services.filter((s) => s.compiled && !existsSync(s.entry));
  if (missing.length === 0) {
    console.log('NODE_ENV=production: running the compiled dist/ (npm run build rebuilds it after a change)');
    return;
  }
  console.log(`NODE_ENV=production: ${missing.map((s) => s.entry).join(', ')} missing, building dist/ (npm run build)…`);
  const build = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/build/build.ts'], { stdio: 'inherit' });
  if (build.status !== 0 || missing.some((s) => !existsSync(s.entry))) {
    console.error('Larder cannot start: npm run build failed; fix it, or run without NODE_ENV=production (tsx).');
    process.exit(1);
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const services = readSettings();
  const [inventory] = services as [StartService, StartService];
  // Development customer tokens (deploy/dev-jwks) unless production or the environment configures its own.
  const devTokens = usesDevTokens(process.env);
  const serviceEnv: Record<StartService['name'], Record<string, string>> = {
    inventory: { DATABASE_URL: inventoryDb },
    order: { DATABASE_URL: orderDb, INVENTORY_ADDR: `127.0.0.1:${inventory.grpcPort}`, ...(devTokens ? DEV_TOKEN_ENV : {}) },
  };
  const problems = [
    ...(await preflight(inventoryDb, NATS_URL)),
    ...(await takenPorts(services, process.env.GRPC_HOST?.trim() || '0.0.0.0')),
  ];
  if (problems.length > 0) {
    console.error(`Larder cannot start:\n\n${problems.join('\n\n')}`);
    process.exit(1);
  }
  buildIfMissing(services);
  await migrateAll();
  const db = createDatabase({ url: inventoryDb, poolMax: 1 });
  const empty = Number((await db('products').count<{ count: string }[]>('* as count'))[0]!.count) === 0;
  await db.destroy();
  if (empty) await seedInventory(inventoryDb);

  const children: ChildProcess[] = [];
  let stopping = false;
  const stopAll = (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping services…');
    const alive = children.filter((c) => c.exitCode === null && c.signalCode === null);
    if (alive.length === 0) process.exit(code);
    let remaining = alive.length;
    for (const child of alive) {
      child.once('exit', () => {
        remaining -= 1;
        if (remaining === 0) process.exit(code);
      });
      child.kill('SIGTERM');
    }
    setTimeout(() => process.exit(code || 1), 20_000).unref();
  };
  process.on('exit', () => children.forEach((c) => c.exitCode === null && c.kill('SIGKILL')));
  process.on('SIGINT', () => stopAll(0));
  process.on('SIGTERM', () => stopAll(0));

  for (const service of services) {
    const child = spawn(process.execPath, [...service.nodeArgs, service.entry], {
      env: {
        ...process.env,
        NATS_URL,
        GRPC_PORT: String(service.grpcPort),
        METRICS_PORT: String(service.metricsPort),
        ...serviceEnv[service.name],
      },
      stdio: ['ignore', 'inherit', 'inherit'],
      // Own process group: Ctrl-C reaches only this script, which stops the
      // services once, with SIGTERM (a second signal would force them).
      detached: true,
    });
    child.once('exit', (code, signal) => {
      if (!stopping) {
        console.error(`${service.name} exited (${signal ?? code}); stopping the rest`);
        stopAll(1);
      }
    });
    children.push(child);
  }
  for (const service of services) {
    if (!(await waitUntilServing(`127.0.0.1:${service.grpcPort}`, 30_000, 200))) {
      console.error(`${service.name} did not report SERVING on 127.0.0.1:${service.grpcPort} within 30 s`);
      stopAll(1);
      return;
    }
  }
  const seconds = (Date.now() - started) / 1000;
  const customerId = randomUUID();
  const customerToken = devTokens ? await mintDevToken(customerId) : undefined;
  console.log(banner(services, { seconds, customerId, customerToken, ownKeys: Boolean(process.env.API_KEYS?.trim()) }));
}

main().catch((error: unknown) => {
  console.error(`start failed: ${(error as Error).message}`);
  process.exit(1);
});
