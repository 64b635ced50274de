import type { Disagreement } from '../../scripts/reconcile/compare.js';
import type { RepairOutcome } from '../../scripts/reconcile/repair.js';
import { runProcess, type Run } from './run-process.js';

export type { Disagreement, RepairOutcome };

/**
 * The project's scripts (scripts/*.ts) run as child processes, the way an
 * operator or an image runs them, so a test of one service can prepare and
 * check another through its public start path only, never its code.
 */

/** Runs `command …args` from the repository root to its end (SIGKILL and a rejection after timeoutMs). */
function run(command: string, args: readonly string[], env: Record<string, string>, timeoutMs: number): Promise<Run> {
  return runProcess(command, args, { env: { ...process.env, ...env }, timeoutMs });
}

interface RunOptions {
  /** Added to this process's environment. */
  env?: Record<string, string>;
  timeoutMs?: number;
}

/** `node --import tsx scripts/<script> …args`, what the package.json scripts run (without npm's start-up). */
export const runScript = (script: string, args: readonly string[] = [], { env = {}, timeoutMs = 60_000 }: RunOptions = {}) =>
  run(process.execPath, ['--import', 'tsx', `scripts/${script}`, ...args], env, timeoutMs);

/** `npm run -s <name> -- …args`, through npm as an operator types it. */
export const runNpmScript = (name: string, args: readonly string[] = [], { env = {}, timeoutMs = 60_000 }: RunOptions = {}) =>
  run('npm', ['run', '-s', name, ...(args.length > 0 ? ['--', ...args] : [])], env, timeoutMs);

/** scripts/migrate.ts <service> (`npm run migrate`) on `databaseUrl`; throws unless it exits 0. */
export async function migrateService(service: 'inventory' | 'order', databaseUrl: string): Promise<void> {
  const variable = `${service.toUpperCase()}_DATABASE_URL`;
  const run = await runScript('migrate.ts', [service], { env: { [variable]: databaseUrl } });
  if (run.code !== 0) throw new Error(`migrate ${service} exited ${run.code}: ${run.stderr || run.stdout}`);
}

export interface InvariantViolation {
  productId: string;
  sku: string;
  /** The location's code. */
  location: string;
  problem: string;
}

/**
 * scripts/check-invariants.ts --json (`npm run check:invariants`) on an
 * inventory database: the products it checked and each violation it found.
 * Throws when the check itself could not run (exit 2, or output that is not its JSON).
 */
export async function checkInvariants(inventoryDatabaseUrl: string): Promise<{ products: number; violations: InvariantViolation[] }> {
  const run = await runScript('check-invariants.ts', ['--json'], { env: { INVENTORY_DATABASE_URL: inventoryDatabaseUrl } });
  if (run.code !== 0 && run.code !== 1) throw new Error(`check:invariants exited ${run.code}: ${run.stderr || run.stdout}`);
  const report = JSON.parse(run.stdout) as { products: number; violations: InvariantViolation[] };
  if ((run.code === 1) !== report.violations.length > 0) {
    throw new Error(`check:invariants exited ${run.code} but reported ${report.violations.length} violation(s): ${run.stdout}`);
  }
  return report;
}

export interface ReconcileOptions {
  /**
   * Pairs that moved less than this many seconds ago count as in flight (default
   * 0: strict, for a system that has settled; a saga step's live lease still counts).
   */
  graceSeconds?: number;
  /** Apply the safe repairs through the inventory API at this address (an API key with reservations and stock.write: the default dev key). */
  repairVia?: { inventoryAddr: string; apiKey?: string };
  pageSize?: number;
}

/**
 * scripts/reconcile.ts --json (`npm run reconcile`) on both databases: the
 * orders it compared and each disagreement between an order and its reservation
 * (after --repair, those remaining, and what the repairs did). Throws when the
 * reconciler could not run (exit 2, or output that is not its JSON).
 */
export async function reconcile(
  urls: { inventoryDatabaseUrl: string; orderDatabaseUrl: string },
  options: ReconcileOptions = {},
): Promise<{ orders: number; reservations: number; inFlight: number; disagreements: Disagreement[]; repairs?: RepairOutcome[] }> {
  const args = ['--json', '--grace-seconds', String(options.graceSeconds ?? 0)];
  if (options.pageSize) args.push('--page-size', String(options.pageSize));
  const env: Record<string, string> = { INVENTORY_DATABASE_URL: urls.inventoryDatabaseUrl, ORDER_DATABASE_URL: urls.orderDatabaseUrl };
  if (options.repairVia) {
    args.push('--repair');
    env.INVENTORY_ADDR = options.repairVia.inventoryAddr;
    if (options.repairVia.apiKey) env.INVENTORY_API_KEY = options.repairVia.apiKey;
  }
  const run = await runScript('reconcile.ts', args, { env });
  if (run.code !== 0 && run.code !== 1) throw new Error(`reconcile exited ${run.code}: ${run.stderr || run.stdout}`);
  const report = JSON.parse(run.stdout) as Awaited<ReturnType<typeof reconcile>>;
  if ((run.code === 1) !== report.disagreements.length > 0) {
    throw new Error(`reconcile exited ${run.code} but reported ${report.disagreements.length} disagreement(s): ${run.stdout}`);
  }
  return report;
}
