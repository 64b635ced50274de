/**
 * `npm run migrate`: creates each service's database if missing and applies
 * its migrations. Reads INVENTORY_DATABASE_URL and ORDER_DATABASE_URL (defaults
 * postgres://postgres@127.0.0.1:5432/larder_inventory and …/larder_order).
 *
 *   node --import tsx scripts/migrate.ts [inventory|order ...]
 *   node dist/scripts/migrate.js [inventory|order ...]     (after npm run build; the image runs this)
 *
 * migrates only the services named (none: every one). An unknown name exits 2.
 * Every service's migrations are imported statically (MIGRATIONS), so tsc
 * compiles them into dist/ with this script; a service's database is touched
 * only when that service is migrated.
 */
import { pathToFileURL } from 'node:url';
import { ensureDatabase } from '#libs/db/admin.js';
import { createDatabase } from '#libs/db/knex.js';
import { migrateToLatest, type Migration } from '#libs/db/migrate.js';
import { inventoryMigrations } from '../services/inventory/operator.js';
import { orderMigrations } from '../services/order/operator.js';

export const SERVICES = ['inventory', 'order'] as const;
export type ServiceName = (typeof SERVICES)[number];

export const DATABASES: { service: ServiceName; url: string }[] = [
  { service: 'inventory', url: process.env.INVENTORY_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/larder_inventory' },
  { service: 'order', url: process.env.ORDER_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/larder_order' },
];

export const isServiceName = (name: string): name is ServiceName => (SERVICES as readonly string[]).includes(name);

/** Each service's migrations (services/<service>/migrations/index.ts). */
export const MIGRATIONS: Readonly<Record<ServiceName, readonly Migration[]>> = {
  inventory: inventoryMigrations,
  order: orderMigrations,
};

/** Migrates the services named, in DATABASES order (default: all of them). */
export async function migrateAll(services: readonly ServiceName[] = SERVICES, log: (line: string) => void = console.log): Promise<void> {
  for (const { service, url } of DATABASES.filter((d) => services.includes(d.service))) {
    const migrations = MIGRATIONS[service];
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

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
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
