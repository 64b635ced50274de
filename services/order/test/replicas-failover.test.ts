import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { delay } from '#test/support/free-port.js';
import { reconcile } from '#test/support/scripts.js';
import type { GatewayCallEntry } from '../payments/recording-gateway.js';
import { paymentViolations } from './gateway-log.js';
import { createProduct, inventoryViolations, startSystem, stockOf, type TestSystem } from './system.js';

/**
 * Two inventory and two order processes on the same databases; mid-traffic one
 * of each is SIGKILLed and not restarted. The callers talk to the surviving
 * order replica only; its calls to inventory are balanced over both inventory
 * processes (INVENTORY_ADDR as a list, round_robin) and retried on UNAVAILABLE,
 * and the orders the dead order replica held are taken over once their leases lapse.
 */

const ORDERS = 200;
const CALLERS = 16;
const KILL_AFTER = 80;
const CALLER_ATTEMPTS = 5;
const LEASE_MS = 4_000;
const FINAL = ['CONFIRMED', 'CANCELLED', 'FAILED'];

/** Charges `pid` sent that have not answered yet. */
function unansweredCharges(log: readonly GatewayCallEntry[], pid: number): number {
  const mine = log.filter((e) => e.pid === pid && e.op === 'charge');
  return mine.filter((e) => e.phase === 'call').length - mine.filter((e) => e.phase !== 'call').length;
}

interface Lease {
  id: string;
  lease_token: string;
  lease_until: Date;
}

describe('replicas: an inventory and an order process die mid-traffic', function () {
  this.timeout(180_000);
  let system: TestSystem;
  before(async () => {
    system = await startSystem({
      inventoryReplicas: 1,
      orderEnv: {
        // Half the charges answer "unavailable" (nothing charged) and go back to the
        // workers of both replicas, so the doomed replica holds leases when it dies.
        PAYMENT_LATENCY_MS: '300',
        PAYMENT_UNAVAILABLE_RATE: '0.5',
        PAYMENT_MAX_ATTEMPTS: '8',
        PAYMENT_TIMEOUT_MS: '2000',
        WORKER_CONCURRENCY: '8',
        LEASE_MS: String(LEASE_MS),
      },
    });
  });
  after(async () => system?.stop());

  it('loses no order, oversells nothing, charges once, and finishes the dead replica’s leased orders', async () => {
    const doomedOrder = await system.addOrderReplica();
    const doomedInventory = system.inventoryReplicas[0]!;
    const products = await Promise.all([1, 2, 3, 4].map(() => createProduct(system, 100)));
    const db = system.orderDb.db;

    // Callers: each order keeps its idempotency key across the caller's retries.
    const errors: string[] = [];
    const failed: string[] = [];
    const placed: string[] = [];
    let next = 0;
    let calls = 0;
    let killed: () => void = () => undefined;
    const killNow = new Promise<void>((resolve) => (killed = resolve));
    async function caller(): Promise<void> {
      while (next < ORDERS) {
        const i = next++;
        const request = {
          customerId: randomUUID(),
          idempotencyKey: randomUUID(),
          paymentToken: 'tok_card_replicas',
          items: [{ productId: products[i % products.length]!.id, quantity: 1 }],
        };
        for (let attempt = 1; attempt <= CALLER_ATTEMPTS; attempt += 1) {
          calls += 1;
          try {
            const { order } = await system.orders.createOrder(request, { timeoutMs: 10_000 });
            placed.push(order!.id);
            break;
          } catch (error) {
            errors.push(`order ${i} attempt ${attempt}: ${(error as Error).message}`);
            if (attempt === CALLER_ATTEMPTS) failed.push(request.idempotencyKey);
            else await delay(100 * attempt);
          }
        }
        if (placed.length >= KILL_AFTER) killed();
      }
    }

    // The killer: once the doomed replica has a charge in the air (the hardest case for
    // the survivor: the outcome is unknown), the leases live right then, and both
    // processes SIGKILLed by PID.
    let leasedAtKill: Lease[] = [];
    let killedAt = 0;
    let chargeInFlightAtKill = false;
    const killer = killNow.then(async () => {
      const waitUntil = Date.now() + 5_000;
      while (!chargeInFlightAtKill && Date.now() < waitUntil) {
        chargeInFlightAtKill = unansweredCharges(system.gatewayLog(), doomedOrder.process.pid!) > 0;
        if (!chargeInFlightAtKill) await delay(5);
      }
      leasedAtKill = await db('orders').where('lease_until', '>', new Date()).select('id', 'lease_token', 'lease_until');
      const pids = [doomedInventory.pid, doomedOrder.process.pid];
      expect(pids.every((pid) => pid !== undefined)).to.equal(true);
      for (const pid of pids) process.kill(pid!, 'SIGKILL');
      killedAt = Date.now();
      // Wait for the exits (stop() on a dead process resolves at once).
      await Promise.all([doomedInventory.stop('SIGKILL'), doomedOrder.process.stop('SIGKILL')]);
      expect(doomedInventory.running || doomedOrder.process.running, 'both doomed processes are gone').to.equal(false);
    });

    // The dead replica's leases: ones still under their token just before they lapse
    // (the survivor ends its own steps and drops its leases long before that).
    const orphaned = killer.then(async () => {
      const dead: Lease[] = [];
      for (const lease of [...leasedAtKill].sort((a, b) => a.lease_until.getTime() - b.lease_until.getTime())) {
        const wait = lease.lease_until.getTime() - 300 - Date.now();
        if (wait > 0) await delay(wait);
        const row = await db('orders').where({ id: lease.id }).first('lease_token');
        if (row?.lease_token === lease.lease_token) dead.push(lease);
      }
      return dead;
    });

    const started = Date.now();
    await Promise.all(Array.from({ length: CALLERS }, caller));
    const callersDone = Date.now();
    await killer;
    expect(killedAt, 'the kill happened mid-traffic').to.be.below(callersDone);

    // Every order converges: a final status, nothing leased, no payment in the air.
    const deadline = Date.now() + 90_000;
    let open: { id: string; status: string }[];
    do {
      open = await db('orders')
        .whereIn('id', placed)
        .andWhere((q) => q.whereNotIn('status', FINAL).orWhereNotNull('lease_token').orWhere('payment_status', 'PENDING'))
        .select('id', 'status');
      if (open.length === 0) break;
      await delay(200);
    } while (Date.now() < deadline);
    const convergedAt = Date.now();
    expect(open, `orders that did not converge (logs: ${system.logDir})`).to.deep.equal([]);

    const deadLeases = await orphaned;
    const summary = {
      orders: placed.length,
      callerCalls: calls,
      callerRetries: calls - ORDERS,
      callerErrors: errors.length,
      leasedAtKill: leasedAtKill.length,
      deadReplicaLeases: deadLeases.length,
      chargeInFlightAtKill,
      killAfterMs: killedAt - started,
      trafficMs: callersDone - started,
      convergeAfterTrafficMs: convergedAt - callersDone,
      convergeAfterKillMs: convergedAt - killedAt,
    };
    console.log(`      replicas failover: ${JSON.stringify(summary)}`);
    if (errors.length > 0) console.log(`      caller errors:\n        ${errors.slice(0, 10).join('\n        ')}`);

    expect(failed, 'orders whose caller gave up after its retries').to.deep.equal([]);
    expect(placed).to.have.length(ORDERS);
    expect(new Set(placed).size, 'one order per idempotency key').to.equal(ORDERS);

    // Takeover: the dead replica held orders, and each was finished by the survivor after its lease lapsed.
    expect(chargeInFlightAtKill, 'the doomed replica had a charge in the air when it died').to.equal(true);
    expect(deadLeases.length, 'the killed order replica held no leases: the test did not exercise takeover').to.be.greaterThan(0);
    for (const lease of deadLeases) {
      const order = await db('orders').where({ id: lease.id }).first('status');
      expect(FINAL, `order ${lease.id} left by the dead replica`).to.include(order.status);
      const after = await db('order_events')
        .where({ order_id: lease.id })
        .andWhere('created_at', '>=', lease.lease_until)
        .count({ n: '*' });
      expect(Number(after[0]!.n), `order ${lease.id} moved on after its lease lapsed`).to.be.greaterThan(0);
    }

    // Money and stock.
    expect(paymentViolations(system.gatewayLog()), 'no double charge').to.deep.equal([]);
    const confirmed = await db('orders').whereIn('id', placed).andWhere({ status: 'CONFIRMED' }).count({ n: '*' });
    const sold = (await Promise.all(products.map((p) => stockOf(system, p.id)))).reduce((sum, level) => {
      expect(level.reserved, 'nothing left reserved').to.equal(0);
      return sum + level.sold;
    }, 0);
    expect(sold, 'units sold = orders confirmed').to.equal(Number(confirmed[0]!.n));
    expect(await inventoryViolations(system)).to.deep.equal([]);
    const report = await reconcile({ inventoryDatabaseUrl: system.inventoryDb.url, orderDatabaseUrl: system.orderDb.url });
    expect(report.disagreements, 'the reconciler finds orders and reservations agree').to.deep.equal([]);
  });
});
