/**
 * `npm run migrate`: creates each service's database if missing and applies
 * its migrations. Reads INVENTORY_DATABASE_URL and ORDER_DATABASE_URL (defaults
 * postgres://postgres@127.0.0.1:5432/larder_inventory and …/larder_order).
 */
import { ensureDatabase } from '../libs/db/admin.js';
import { createDatabase } from '../libs/db/knex.js';
import { migrateToLatest, type Migration } from '../libs/db/migrate.js';
import { inventoryMigrations } from '../services/inventory/migrations/index.js';
import { orderMigrations } from '../services/order/migrations/index.js';

export const DATABASES: { service: string; url: string; migrations: readonly Migration[] }[] = [
  {
    service: 'inventory',
    url: process.env.INVENTORY_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/larder_inventory',
    migrations: inventoryMigrations,
  },
  {
    service: 'order',
    url: process.env.ORDER_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/larder_order',
    migrations: orderMigrations,
  },
];

export async function migrateAll(log: (line: string) => void = console.log): Promise<void> {
  for (const { service, url, migrations } of DATABASES) {
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
  migrateAll().catch((error: unknown) => {
    console.error(`migrate failed: ${(error as Error).message}`);
    process.exit(1);
  });
}
