/**
 * `npm run check:invariants`: verifies docs/design.md §2's stock conservation invariant,
 * per (product, location) (§8), on a live inventory database (DATABASE_URL or
 * INVENTORY_DATABASE_URL, default the local larder_inventory). Exits 1 naming each
 * product and location that breaks it.
 *
 *   npm run check:invariants [-- --json]
 *
 * --json prints one line instead, for programs (the system tests):
 * {"products":<n>,"violations":[{"productId","sku","location","problem"}, …]}, with the
 * same exit codes (0 holds, 1 violations, 2 the check could not run).
 */
import { createDatabase } from '#libs/db/knex.js';
import { checkStockInvariant } from '../services/inventory/operator.js';

const json = process.argv.slice(2).includes('--json');
const url = process.env.INVENTORY_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/larder_inventory';
const db = createDatabase({ url, poolMax: 1, applicationName: 'larder-check-invariants' });
try {
  const { products, violations } = await checkStockInvariant(db);
  if (json) {
    console.log(JSON.stringify({ products, violations }));
  } else if (violations.length === 0) {
    console.log(`invariants hold for all ${products} products`);
  } else {
    for (const v of violations) console.error(`VIOLATION ${v.sku} (${v.productId}) at ${v.location}: ${v.problem}`);
    console.error(`${violations.length} violation(s) across ${products} products`);
  }
  if (violations.length > 0) process.exitCode = 1;
} catch (error) {
  console.error(`check:invariants failed: ${(error as Error).message}`);
  process.exitCode = 2;
} finally {
  await db.destroy();
}
