import { envReader, type Env } from '#libs/config/env.js';

export const USAGE = `usage: npm run reconcile -- [--json] [--repair] [--grace-seconds N] [--page-size N]

Compares every order (ORDER_DATABASE_URL) with its reservation (INVENTORY_DATABASE_URL).
  --json             one JSON line for programs instead of text
  --repair           apply the safe compensations through the inventory API
                     (INVENTORY_ADDR, INVENTORY_API_KEY), then check again
  --grace-seconds N  pairs that moved less than N seconds ago are in flight, not
                     disagreements (default 60; 0 after the system has settled)
  --page-size N      rows read per query (default 500)
Exit: 0 everything agrees, 1 disagreements (remaining after --repair), 2 usage or configuration error, or the check could not run.`;

export interface ReconcileOptions {
  json: boolean;
  repair: boolean;
  graceMs: number;
  pageSize: number;
  orderDatabaseUrl: string;
  inventoryDatabaseUrl: string;
  inventoryAddress: string;
  inventoryApiKey: string;
}

/** A bad flag or value: the script prints it with the usage and exits 2. */
export class UsageError extends Error {}

function count(flag: string, value: string | undefined, min: number, max: number): number {
  if (value === undefined || !/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`${flag} takes an integer from ${min} to ${max}, got ${value === undefined ? 'nothing' : `"${value}"`}`);
  }
  return Number(value);
}

/** Flags from argv, databases and the inventory's address and key from the environment (the names migrate.ts and the order service use). */
export function readOptions(argv: readonly string[], env: Env): ReconcileOptions {
  const flags = { json: false, repair: false, graceSeconds: 60, pageSize: 500 };
  for (let i = 0; i < argv.length; i += 1) {
    const [flag, inline] = argv[i]!.split('=', 2) as [string, string | undefined];
    const value = () => inline ?? argv[++i];
    if (flag === '--json') flags.json = true;
    else if (flag === '--repair') flags.repair = true;
    else if (flag === '--grace-seconds') flags.graceSeconds = count(flag, value(), 0, 86_400);
    else if (flag === '--page-size') flags.pageSize = count(flag, value(), 1, 10_000);
    else throw new UsageError(`unknown argument "${argv[i]}"`);
  }
  const read = envReader(env);
  return {
    json: flags.json,
    repair: flags.repair,
    graceMs: flags.graceSeconds * 1000,
    pageSize: flags.pageSize,
    orderDatabaseUrl: read.url('ORDER_DATABASE_URL', ['postgres:', 'postgresql:'], 'postgres://postgres@127.0.0.1:5432/larder_order'),
    inventoryDatabaseUrl: read.url(
      'INVENTORY_DATABASE_URL',
      ['postgres:', 'postgresql:'],
      'postgres://postgres@127.0.0.1:5432/larder_inventory',
    ),
    inventoryAddress: read.string('INVENTORY_ADDR', '127.0.0.1:50051'),
    inventoryApiKey: read.string('INVENTORY_API_KEY', 'dev-order-service-key'),
  };
}
