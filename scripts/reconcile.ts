/**
 * `npm run reconcile`: compares every order (order database) with its
 * reservation (inventory database) by the agreement table of
 * scripts/reconcile/rules.ts, and prints each disagreement on a line of its own
 * and a summary. With --repair it applies the safe compensations through the
 * inventory's public gRPC API (scripts/reconcile/repair.ts), then checks again
 * and reports what remains; the rest needs a human.
 *
 *   npm run reconcile [-- --json] [--repair] [--grace-seconds N] [--page-size N]
 *   node dist/scripts/reconcile.js …                    (after npm run build; in the image)
 *
 * Reads ORDER_DATABASE_URL and INVENTORY_DATABASE_URL (as scripts/migrate.ts;
 * defaults the local larder_order and larder_inventory), and for --repair
 * INVENTORY_ADDR and INVENTORY_API_KEY (as the order service; a key with the
 * reservations and stock.write scopes). --json prints one line:
 * {"orders","reservations","inFlight","disagreements":[…],"repairs"?:[…]}.
 * Exit 0 everything agrees, 1 disagreements (after --repair: those remaining),
 * 2 a usage or configuration error, or the check could not run.
 */
import type { Knex } from 'knex';
import { ConfigError } from '#libs/config/env.js';
import { createDatabase } from '#libs/db/knex.js';
import { compareAll, type Comparison } from './reconcile/compare.js';
import { readOptions, UsageError, USAGE, type ReconcileOptions } from './reconcile/options.js';
import { inventoryRepairer, type RepairOutcome } from './reconcile/repair.js';
import { disagreementLine, repairLine, summaryLine } from './reconcile/report.js';

/** Deadline of each repair call: generous, an operator runs this once, not on a hot path. */
const REPAIR_CALL_TIMEOUT_MS = 10_000;

async function reconcile(options: ReconcileOptions, orderDb: Knex, inventoryDb: Knex) {
  const compare = () => compareAll(orderDb, inventoryDb, { now: new Date(), graceMs: options.graceMs, pageSize: options.pageSize });
  const found = await compare();
  if (!options.repair || found.disagreements.length === 0) return { result: found, repairs: options.repair ? [] : undefined };
  const repairer = inventoryRepairer({
    address: options.inventoryAddress,
    apiKey: options.inventoryApiKey,
    timeoutMs: REPAIR_CALL_TIMEOUT_MS,
  });
  const repairs: RepairOutcome[] = [];
  try {
    for (const disagreement of found.disagreements) {
      const outcome = await repairer.repair(disagreement);
      if (outcome) repairs.push(outcome);
    }
  } finally {
    repairer.close();
  }
  return { result: await compare(), repairs };
}

function print(json: boolean, result: Comparison, repairs: RepairOutcome[] | undefined): void {
  if (json) {
    console.log(JSON.stringify({ ...result, ...(repairs ? { repairs } : {}) }));
    return;
  }
  for (const repair of repairs ?? []) console.log(repairLine(repair));
  for (const disagreement of result.disagreements) console.error(disagreementLine(disagreement));
  (result.disagreements.length > 0 ? console.error : console.log)(summaryLine(result, repairs));
}

let options: ReconcileOptions;
try {
  options = readOptions(process.argv.slice(2), process.env);
} catch (error) {
  if (!(error instanceof UsageError || error instanceof ConfigError)) throw error;
  console.error(`reconcile: ${error.message}\n${USAGE}`);
  process.exit(2);
}
const orderDb = createDatabase({ url: options.orderDatabaseUrl, poolMax: 2, applicationName: 'larder-reconcile' });
const inventoryDb = createDatabase({ url: options.inventoryDatabaseUrl, poolMax: 2, applicationName: 'larder-reconcile' });
try {
  const { result, repairs } = await reconcile(options, orderDb, inventoryDb);
  print(options.json, result, repairs);
  if (result.disagreements.length > 0) process.exitCode = 1;
} catch (error) {
  console.error(`reconcile failed: ${(error as Error).message}`);
  process.exitCode = 2;
} finally {
  await Promise.all([orderDb.destroy(), inventoryDb.destroy()]);
}
