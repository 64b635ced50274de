/**
 * `npm run migrate`: creates each service's database if missing and applies
 * its migrations. Reads INVENTORY_DATABASE_URL and ORDER_DATABASE_URL (defaults
 * postgres://postgres@127.0.0.1:5432/larder_inventory and …/larder_order).
 *
 *   node --import tsx scripts/migrate.ts [inventory|order ...]
 *
 * migrates only the services named (none: every one). An unknown name exits 2.
 * A service's migrations are imported only when that service is migrated, so
 * each service's image (which holds no other service's code) runs this script
 * for its own database.
 */
import { existsSync } from 'node:fs';
import { ensureDatabase } from '#libs/db/admin.js';
import { createDatabase } from '#libs/db/knex.js';
import { migrateToLatest, type Migration } from '#libs/db/migrate.js';

export const SERVICES = ['inventory', 'order'] as const;
export type ServiceName = (typeof SERVICES)[number];

export const DATABASES: { service: ServiceName; url: string }[] = [
  { service: 'inventory', url: process.env.INVENTORY_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/larder_inventory' },
  { service: 'order', url: process.env.ORDER_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/larder_order' },
];

export const isServiceName = (name: string): name is ServiceName => (SERVICES as readonly string[]).includes(name);

/**
 * services/<service>/migrations/index.ts, imported on first use. The specifier
 * is built at run time on purpose: a literal one would make tsc (the images'
 * build stage) require every service's code.
 */
async function loadMigrations(service: ServiceName): Promise<readonly Migration[]> {
  if (!existsSync(new URL(`../services/${service}/`, import.meta.url))) {
    throw new Error(`${service}: services/${service}/ is not here (an image holds only its own service's code)`);
  }
  const module = (await import(`../services/${service}/migrations/index.js`)) as Record<string, unknown>;
  const migrations = module[`${service}Migrations`];
  if (!Array.isArray(migrations)) throw new Error(`${service}: services/${service}/migrations/index.ts exports no ${service}Migrations`);
  return migrations as readonly Migration[];
}

/** Migrates the services named, in DATABASES order (default: all of them). */
export async function migrateAll(services: readonly ServiceName[] = SERVICES, log: (line: string) => void = console.log): Promise<void> {
  for (const { service, url } of DATABASES.filter((d) => services.includes(d.service))) {
    const migrations = await loadMigrations(service);
    if (await ensureDatabase(url)) log(`${service}: created database ${new URL(url).pathname.slice(1)}`);
    const db = createDatabase({ url, poolMax: 2, applicationName: `larder-migrate-${service}` });
    try {
      const applied = await migrateToLatest(db, migrations);
      log(`${service}: ${applied.length ? `applied ${applied.join(', ')}` : 'schema up to date'}`);
    } finally {
      await db.destroy();
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const names = process.argv.slice(2);
  const unknown = names.filter((name) => !isServiceName(name));
  if (unknown.length > 0) {
    console.error(`migrate: unknown service ${unknown.map((n) => `"${n}"`).join(', ')}; valid: ${SERVICES.join(', ')}`);
    process.exit(2);
  }
  migrateAll(names.length > 0 ? names.filter(isServiceName) : SERVICES).catch((error: unknown) => {
    console.error(`migrate failed: ${(error as Error).message}`);
    process.exit(1);
  });
}
