/**
 * Injected crash points (LARDER_CRASH_AT, libs/process/crash-points.ts): the
 * order process (for relay-mid-batch, also the inventory process) kills itself
 * with SIGKILL at one named point, on a hit chosen by the seed, while buyers
 * place orders and retry their own idempotency keys.
 * The test first checks that the crash landed where its name says (the state
 * it left), then restarts the process and asserts convergence: one order per
 * key, no double charge at the gateway, no status entered twice, stock exact,
 * every event in its stream exactly once, no consumer left behind, and the
 * invariant and the reconciler clean.
 *
 * CRASH_SEEDS=1,2,3 (default) chooses the seeds; each seed picks the workload
 * and the hit (seed s dies at the s-th time the point is reached, cycling
 * within the point's maxHit), so a failure replays with CRASH_SEEDS=<that seed>.
 */
import { status as Code, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Knex } from 'knex';
import { connect, type NatsConnection } from 'nats';
import { ORDER_EVENTS } from '#libs/events/catalog.js';
import { INVENTORY_STREAM, ORDERS_STREAM } from '#libs/events/streams.js';
import { messageIds, readStream } from '#libs/events/test/helpers.js';
import type { CrashPoint } from '#libs/process/crash-points.js';
import type { ServiceProcess } from '#test/support/service-process.js';
import { eventually } from '#test/support/eventually.js';
import { delay } from '#test/support/free-port.js';
import { startThrowawayNatsServer, type ThrowawayNatsServer } from '#test/support/nats-server.js';
import { findMetric, scrapeMetrics } from '#test/support/scrape.js';
import { seededInts } from '#test/support/seeded-random.js';
import { answeredIds, createOrderOf, expectEachOrderOnce, expectStockExact, type Plan } from './checkout-outcomes.js';
import { expectStreamsMatchOutboxes, systemConverged } from './convergence.js';
import { createProduct, reconcileSystem, startSystem, type TestSystem } from './system.js';

const SEEDS = (process.env.CRASH_SEEDS ?? '1,2,3').split(',').map((s) => Number(s.trim()));
const ORDERS_PER_RUN = 16;
const BUYERS = 6;
const INITIAL_STOCK = 100;

/** What the crash left, read before the restart: proof that it landed where its name says. */
type LandedCheck = (system: TestSystem, run: { plans: Plan[]; nc: NatsConnection }) => Promise<true | string>;

interface PointCase {
  point: CrashPoint;
  /** The process that dies (default the order service; the relay and consumers are shared code in both). */
  victim?: 'order' | 'inventory';
  /** Seed s dies at hit 1 + (s − 1) mod maxHit: seeds 1, 2, 3 at the first, second and third; maxHit always comes in a run. */
  maxHit: number;
  landed: LandedCheck;
}

/** A service's outbox rows the relay has not marked published. */
const unpublished = (db: Knex) => db('outbox').whereNull('published_at');

/** A relay died mid-batch: rows JetStream already holds are still unpublished in the outbox (none of the batch was marked). */
const relayDiedMidBatch =
  (stream: string, outbox: (system: TestSystem) => Knex): LandedCheck =>
  async (system, { nc }) => {
    const inStream = new Set(messageIds(await readStream(nc, stream)));
    const rows: string[] = await unpublished(outbox(system)).pluck('id');
    const published = rows.filter((id) => inStream.has(id));
    return published.length > 0 || `no unpublished outbox row is in ${stream} (unpublished: ${rows.length})`;
  };

const CASES: PointCase[] = [
  {
    point: 'reserve-answered',
    maxHit: 6,
    // Inventory holds stock for an order the order service still has as PENDING.
    async landed(system) {
      const pending: string[] = await system.orderDb.db('orders').where({ status: 'PENDING' }).pluck('id');
      const held: string[] =
        pending.length === 0
          ? []
          : await system.inventoryDb.db('reservations').whereIn('order_id', pending).where({ status: 'RESERVED' }).pluck('order_id');
      return held.length > 0 || `no PENDING order with a RESERVED reservation (PENDING: ${pending.length})`;
    },
  },
  {
    point: 'payment-captured',
    maxHit: 5,
    // The gateway captured a charge that the order still records as PENDING.
    async landed(system) {
      const pending: string[] = await system.orderDb.db('orders').where({ payment_status: 'PENDING' }).pluck('id');
      const captured = pending.filter((id) => system.paymentCalls(id).includes('charge:captured'));
      return captured.length > 0 || `no order with payment PENDING and a captured charge (PENDING: ${pending.length})`;
    },
  },
  {
    point: 'order-confirmed',
    maxHit: 5,
    // A CONFIRMED order's event sits in the outbox, unpublished.
    async landed(system) {
      const rows: string[] = await unpublished(system.orderDb.db).where({ subject: ORDER_EVENTS.confirmed.subject }).pluck('id');
      return rows.length > 0 || 'no unpublished orders.confirmed row in the outbox';
    },
  },
  {
    point: 'relay-mid-batch',
    maxHit: 3,
    landed: relayDiedMidBatch(ORDERS_STREAM.name, (system) => system.orderDb.db),
  },
  {
    // The inventory's relay: reservation events, while the order saga waits out the inventory's absence.
    point: 'relay-mid-batch',
    victim: 'inventory',
    maxHit: 3,
    landed: relayDiedMidBatch(INVENTORY_STREAM.name, (system) => system.inventoryDb.db),
  },
  {
    point: 'consumer-after-commit',
    maxHit: 3,
    // The effect committed but the delivery was never acknowledged: NATS still waits for its ack (or has it up for redelivery).
    async landed(_system, { nc }) {
      const jsm = await nc.jetstreamManager();
      const consumers = await jsm.consumers.list(INVENTORY_STREAM.name).next();
      const awaiting = consumers.filter((c) => c.name.startsWith('order-') && c.num_ack_pending + c.num_redelivered > 0);
      return awaiting.length > 0 || 'no order consumer with an unacknowledged delivery';
    },
  },
];

const crashLines = (victim: ServiceProcess, point: CrashPoint): number =>
  readFileSync(victim.logFile, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith(`larder: crash point ${point} reached`)).length;

/** The seed's orders: items over the three products, about a quarter (and always the first three) declined. */
function planOrders(seed: number, point: CrashPoint, products: readonly { id: string }[]): Plan[] {
  const rand = seededInts(seed);
  const plans: Plan[] = Array.from({ length: ORDERS_PER_RUN }, (_, i) => {
    const first = rand(3);
    const items = [{ productId: products[first]!.id, quantity: 1 + rand(2) }];
    if (rand(3) === 0) items.push({ productId: products[(first + 1) % 3]!.id, quantity: 1 });
    const token = rand(4) === 0 ? 'tok_decline' : 'tok_pay';
    return { key: `crash-${point}-${seed}-${i}`, customerId: randomUUID(), token, items };
  });
  // The consumer point needs released reservations to consume: at least three declines.
  for (const plan of plans.slice(0, 3)) plan.token = 'tok_decline';
  return plans;
}

/**
 * BUYERS callers place the plans, each retrying its own key on UNAVAILABLE or
 * DEADLINE_EXCEEDED (a call cut off by the crash, or sent while the process is
 * down) every 100 ms, at most 200 times.
 */
function startBuyers(system: TestSystem, plans: readonly Plan[]) {
  const answers = new Map<string, string[]>();
  let retries = 0;
  const place = async (plan: Plan): Promise<void> => {
    for (let attempt = 0; ; attempt += 1) {
      try {
        const { order } = await createOrderOf(system, plan);
        answers.set(plan.key, [...(answers.get(plan.key) ?? []), order!.id]);
        return;
      } catch (error) {
        const code = (error as ServiceError).code;
        if ((code !== Code.UNAVAILABLE && code !== Code.DEADLINE_EXCEEDED) || attempt >= 200) throw error;
        retries += 1;
        await delay(100);
      }
    }
  };
  let next = 0;
  const done = Promise.all(
    Array.from({ length: BUYERS }, async () => {
      while (next < plans.length) await place(plans[next++]!);
    }),
  );
  done.catch(() => undefined); // the test awaits it after the restart
  return { answers, done, retries: () => retries };
}

describe('injected crash points: a service SIGKILLed at a named point resumes without loss or double effect', function () {
  this.timeout(180_000);

  for (const { point, victim: victimName = 'order', maxHit, landed } of CASES) {
    describe(`LARDER_CRASH_AT=${point} in the ${victimName} service`, () => {
      let nats: ThrowawayNatsServer;
      let nc: NatsConnection;
      let system: TestSystem;
      before(async () => {
        // A broker of its own: the streams hold this system's events only, so they can be compared with its outboxes.
        nats = await startThrowawayNatsServer();
        nc = await connect({ servers: nats.url, name: `crash-points-${point}` });
        system = await startSystem({
          inventoryEnv: { NATS_URL: nats.url },
          orderEnv: { NATS_URL: nats.url, PAYMENT_LATENCY_MS: '20', PAYMENT_TIMEOUT_MS: '2000', LEASE_MS: '2000' },
        });
      });
      after(async () => {
        await system?.stop();
        await nc?.close();
        await nats?.destroy();
      });

      // A seed that failed may leave its victim dead: the next seed starts from both processes up.
      beforeEach(async () => {
        for (const service of [system.inventoryProcess, system.orderProcess]) if (!service.running) await service.start();
      });

      for (const seed of SEEDS) {
        it(`seed ${seed}: the crash lands there, and after a restart every order converges exactly once`, async () => {
          const hit = 1 + ((seed - 1) % maxHit);
          const products = await Promise.all([0, 1, 2].map(() => createProduct(system, INITIAL_STOCK)));
          const plans = planOrders(seed, point, products);

          // 1. A life of the process that dies at the point, under buyers. It starts with an empty
          // outbox, so the crash comes from this life's work: rows left from before (the products'
          // events) would make a relay point fire while the process is still starting.
          const victim = victimName === 'order' ? system.orderProcess : system.inventoryProcess;
          const victimDb = victimName === 'order' ? system.orderDb.db : system.inventoryDb.db;
          const linesBefore = crashLines(victim, point);
          await victim.stop();
          // A graceful stop publishes what is committed (OUTBOX_DRAIN_MS) while the broker answers.
          expect(await unpublished(victimDb).pluck('id'), `the ${victimName} outbox after a graceful stop`).to.deep.equal([]);
          await victim.start({ LARDER_CRASH_AT: `${point}:${hit}` });
          const buyers = startBuyers(system, plans);
          const exit = await victim.exited(60_000);
          const crashedAt = performance.now();
          expect(exit, `how the ${victimName} process ended (log: ${victim.logFile})`).to.equal('SIGKILL');
          expect(crashLines(victim, point), 'the crash point announced itself once').to.equal(linesBefore + 1);
          expect(await landed(system, { plans, nc }), `the state ${point} left behind`).to.equal(true);

          // 2. The restart, without the crash point: everything converges, each effect once.
          await victim.start();
          await buyers.done;
          const ids = answeredIds(plans, buyers.answers);
          const productIds = products.map((p) => p.id);
          const jsm = await nc.jetstreamManager();
          await eventually(
            'every order, event and consumer to converge after the restart',
            () => systemConverged(system, jsm, ids, productIds),
            {
              timeoutMs: 60_000,
              intervalMs: 200,
            },
          );
          const convergeMs = performance.now() - crashedAt;
          const statusByKey = await expectEachOrderOnce(system, plans, ids);
          if (point === 'payment-captured') {
            // The capture cut off from its record was looked up after the restart, never charged again.
            const resumed = ids.filter((id) => system.paymentCalls(id).join(',') === 'charge:captured,lookup:captured');
            expect(resumed.length, 'orders whose capture was found by a lookup after the restart').to.be.greaterThan(0);
          }
          await expectStockExact(
            system,
            plans.filter((plan) => statusByKey.get(plan.key) === 'CONFIRMED'),
            products,
            INITIAL_STOCK,
          );
          await expectStreamsMatchOutboxes(system, nc);
          let duplicatesSkipped = 0;
          if (point === 'consumer-after-commit') {
            // The delivery whose effect committed before the kill came again, and the inbox skipped it.
            await eventually('the redelivered event recognised by the inbox', async () => {
              duplicatesSkipped = findMetric(await scrapeMetrics(system.orderMetricsPort), 'larder_consumer_duplicates_total') ?? 0;
              return duplicatesSkipped > 0 || 'no duplicate delivery skipped yet';
            });
          }
          const reconciled = await reconcileSystem(system);
          expect(reconciled.disagreements, 'reconciler').to.deep.equal([]);

          const statuses: Record<string, number> = {};
          for (const status of statusByKey.values()) statuses[status] = (statuses[status] ?? 0) + 1;
          console.log(
            `      ${point} hit ${hit}: ${ORDERS_PER_RUN} orders ${JSON.stringify(statuses)}, caller retries ${buyers.retries()}, ` +
              `converged ${Math.round(convergeMs)} ms after the kill` +
              (point === 'consumer-after-commit' ? `, inbox skipped ${duplicatesSkipped} redelivery` : '') +
              `, reconciler: ${reconciled.orders} orders agree`,
          );
        });
      }
    });
  }
});
