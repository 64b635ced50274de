import type { Knex } from 'knex';
import { setLockTimeout, type Migration } from '#libs/db/migrate.js';

/**
 * Stock in many places, the order side: how an order reaches the customer
 * (`orders.fulfilment`, `carts.fulfilment`) and where its units are reserved
 * (`orders.allocations`, the reservation's allocation lines once reserved).
 * jsonb, nullable, no default: adding them changes only the catalog (no table
 * rewrite, the ACCESS EXCLUSIVE lock lasts a moment, bounded by lock_timeout),
 * and the previous release, which never names them, keeps inserting rows that
 * have none — an order without a fulfilment is reserved anywhere, as before.
 */
export const fulfilmentAndAllocations: Migration = {
  name: '003-fulfilment-and-allocations',
  async up(db: Knex) {
    await setLockTimeout(db);
    await db.raw('alter table orders add column if not exists fulfilment jsonb, add column if not exists allocations jsonb');
    await db.raw('alter table carts add column if not exists fulfilment jsonb');
  },
  async down(db: Knex) {
    await setLockTimeout(db);
    await db.raw('alter table carts drop column if exists fulfilment');
    await db.raw('alter table orders drop column if exists allocations, drop column if exists fulfilment');
  },
};
