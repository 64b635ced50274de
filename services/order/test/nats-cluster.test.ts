import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { connect, type JetStreamManager, type NatsConnection } from 'nats';
import { ensureStream, INVENTORY_STREAM, ORDERS_STREAM } from '#libs/events/streams.js';
import { eventually } from '#test/support/eventually.js';
import { delay } from '#test/support/free-port.js';
import { startNatsCluster, type NatsCluster } from '#test/support/nats-cluster.js';
import { expectStreamsMatchOutboxes, systemConverged } from './convergence.js';
import { paymentViolations } from './gateway-log.js';
import {
  createProduct,
  inventoryViolations,
  reconcileSystem,
  repeatedTransitions,
  startSystem,
  stockOf,
  type TestSystem,
} from './system.js';

const REPLICAS = 3;
const ORDERS = 200;
const BUYERS = 16;
/** Orders placed before the node dies: the rest go in while the cluster is one node short. */
const KILL_AFTER = 60;
const STREAMS = [ORDERS_STREAM.name, INVENTORY_STREAM.name];
/** The inventory service's durable for orders.confirmed (subject-consumers.ts names one durable per subject). */
const CONFIRMED_DURABLE = 'inventory-order-events--orders-confirmed';

interface Placed {
  id: string;
  quantity: number;
}

/**
 * Moves the consumer's leadership (bounded number of step-downs) onto the node
 * leading its stream, so killing that node takes both away: the relay must wait
 * out a stream election and the consumer a consumer election.
 */
async function leadConsumerWithStream(nc: NatsConnection, jsm: JetStreamManager, stream: string, consumer: string): Promise<string> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const streamLeader = (await jsm.streams.info(stream)).cluster?.leader;
    const consumerLeader = (await jsm.consumers.info(stream, consumer)).cluster?.leader;
    if (streamLeader && streamLeader === consumerLeader) return streamLeader;
    if (consumerLeader) await nc.request(`$JS.API.CONSUMER.LEADER.STEPDOWN.${stream}.${consumer}`, undefined, { timeout: 5_000 });
    await delay(500);
  }
  throw new Error(`could not bring the leader of ${stream}/${consumer} onto the stream's leader`);
}

/** Replicas of a stream that are not current, or lag, as the stream leader sees them. */
async function laggingReplicas(jsm: JetStreamManager, stream: string): Promise<string[]> {
  const { cluster } = await jsm.streams.info(stream);
  const replicas = cluster?.replicas ?? [];
  if (!cluster?.leader || replicas.length !== REPLICAS - 1) return [`${stream}: leader ${cluster?.leader}, ${replicas.length} followers`];
  return replicas
    .filter((r) => !r.current || (r.lag ?? 0) > 0 || r.offline)
    .map((r) => `${stream}/${r.name}: lag ${r.lag ?? 0}, current ${r.current}`);
}

describe('both services on a 3-node NATS cluster with R3 streams', function () {
  this.timeout(240_000);
  let cluster: NatsCluster;
  let admin: NatsConnection;
  let jsm: JetStreamManager;
  let system: TestSystem;

  before(async () => {
    cluster = await startNatsCluster();
    admin = await connect({ servers: cluster.urls, maxReconnectAttempts: -1, reconnectTimeWait: 100, name: 'cluster-test' });
    jsm = await admin.jetstreamManager();
    // An existing R1 stream, as a deployment that grows into a cluster has: the services must scale it.
    await ensureStream(admin, INVENTORY_STREAM, { replicas: 1 });
    const env = { NATS_URL: cluster.urls.join(','), NATS_STREAM_REPLICAS: String(REPLICAS) };
    system = await startSystem({
      inventoryEnv: env,
      orderEnv: { ...env, PAYMENT_LATENCY_MS: '30', PAYMENT_TIMEOUT_MS: '2000', RETRY_MAX_ATTEMPTS: '8' },
    });
  });
  after(async () => {
    await system?.stop();
    await admin?.close();
    await cluster?.stop();
  });

  it('loses no order and no event, double-applies nothing, when the stream leader is killed mid-traffic', async () => {
    // Both streams (and their consumers, which inherit) are R3 once both services are up.
    await eventually(
      'both streams and every consumer at R3 with a leader',
      async () => {
        const problems: string[] = [];
        for (const stream of STREAMS) {
          const info = await jsm.streams.info(stream);
          if (info.config.num_replicas !== REPLICAS) problems.push(`${stream} R${info.config.num_replicas}`);
          const consumers = await jsm.consumers.list(stream).next();
          if (consumers.length === 0) problems.push(`${stream} has no consumer yet`);
          for (const c of consumers) {
            if (!c.cluster?.leader || c.cluster.replicas?.length !== REPLICAS - 1) problems.push(`${stream}/${c.name} not R3`);
          }
        }
        return problems.length === 0 || problems.join('; ');
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );

    // The inventory's durable for confirmations lives on ORDERS: its leader dies with the stream's.
    await leadConsumerWithStream(admin, jsm, ORDERS_STREAM.name, CONFIRMED_DURABLE);
    const products = await Promise.all([1, 2, 3, 4].map(() => createProduct(system, 1_000)));
    const placed: Placed[] = [];
    let next = 0;
    let callerRetries = 0;
    let killedAt = 0;
    let killedNode = -1;
    let failedOver: string[] = [];
    const placedOne = new Set<() => void>();
    async function buyer(): Promise<void> {
      while (next < ORDERS) {
        const i = next++;
        const quantity = 1 + (i % 3);
        const request = {
          customerId: randomUUID(),
          idempotencyKey: randomUUID(),
          // Every tenth card is declined: its order is cancelled and inventory must hear of it to release.
          paymentToken: i % 10 === 0 ? 'tok_decline' : 'tok_card',
          items: [{ productId: products[i % products.length]!.id, quantity }],
        };
        for (let attempt = 1; ; attempt++) {
          try {
            const { order } = await system.orders.createOrder(request);
            placed.push({ id: order!.id, quantity });
            break;
          } catch (error) {
            // The same key again: a retry after an unseen success returns that order.
            if (attempt >= 40) throw error;
            callerRetries++;
            await delay(250);
          }
        }
        for (const notify of placedOne) notify();
      }
    }
    async function killLeaderMidTraffic(): Promise<void> {
      await new Promise<void>((resolve) => {
        const notify = () => placed.length >= KILL_AFTER && (placedOne.delete(notify), resolve());
        placedOne.add(notify);
      });
      const leader = (await jsm.streams.info(ORDERS_STREAM.name)).cluster!.leader!;
      killedNode = cluster.indexOf(leader);
      failedOver = (await cluster.clients(killedNode)).filter((name) => name.startsWith('larder-'));
      await cluster.kill(killedNode);
      killedAt = performance.now();
    }
    await Promise.all([killLeaderMidTraffic(), ...Array.from({ length: BUYERS }, buyer)]);
    expect(placed).to.have.length(ORDERS);
    expect(killedAt, 'the node was killed').to.be.greaterThan(0);
    expect(cluster.nodes[killedNode]!.running).to.equal(false);

    // Converged: every order settled, both outboxes drained, every consumer idle, no stock left held.
    const ids = placed.map((p) => p.id);
    const productIds = products.map((p) => p.id);
    const converged = () => systemConverged(system, jsm, ids, productIds);
    await eventually('every order, event and consumer to converge with a node down', converged, { timeoutMs: 90_000, intervalMs: 250 });
    const convergeMs = performance.now() - killedAt;
    // Elections take seconds; a pull left waiting at the dead consumer leader must not stall for its default 30 s.
    expect(convergeMs, 'time to converge after the node loss').to.be.below(25_000);

    // Every outbox event is in its stream exactly once (read from the two live nodes).
    const streamIds = await expectStreamsMatchOutboxes(system, admin);

    // Each order's effects happened once: one entry per status, one charge per paid order, stock exact.
    expect(await repeatedTransitions(system, ids), 'a status entered twice').to.deep.equal([]);
    expect(paymentViolations(system.gatewayLog()), 'payment discipline').to.deep.equal([]);
    const rows = await system.orderDb.db('orders').whereIn('id', ids).select('id', 'status');
    const confirmed = new Set(rows.filter((r) => r.status === 'CONFIRMED').map((r) => r.id as string));
    const soldUnits = placed.filter((p) => confirmed.has(p.id)).reduce((sum, p) => sum + p.quantity, 0);
    const stocks = await Promise.all(products.map((p) => stockOf(system, p.id)));
    expect(
      stocks.reduce((sum, s) => sum + s.sold, 0),
      'units sold = units of confirmed orders',
    ).to.equal(soldUnits);
    expect(stocks.reduce((sum, s) => sum + s.available, 0)).to.equal(4 * 1_000 - soldUnits);
    expect(await inventoryViolations(system)).to.deep.equal([]);

    // The node comes back with its store and catches up on what it missed.
    const restartedAt = performance.now();
    await cluster.restart(killedNode);
    await eventually(
      'every stream replica current again',
      async () => {
        const lagging = [...(await laggingReplicas(jsm, ORDERS_STREAM.name)), ...(await laggingReplicas(jsm, INVENTORY_STREAM.name))];
        return lagging.length === 0 || lagging.join('; ');
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    const catchUpMs = performance.now() - restartedAt;

    // The reconciler finds every order and its reservation in agreement.
    const reconciled = await reconcileSystem(system);
    expect(reconciled).to.deep.include({ orders: ORDERS, disagreements: [] });

    const statuses: Record<string, number> = {};
    for (const r of rows) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    console.log(
      `      nats cluster: ${ORDERS} orders by ${BUYERS} buyers, ${JSON.stringify(statuses)}; killed ${cluster.nodes[killedNode]!.name} (leader of ORDERS and ${CONFIRMED_DURABLE}, serving ${failedOver.join(' and ') || 'neither service'}) after ${KILL_AFTER} orders; ` +
        `events ORDERS ${streamIds[ORDERS_STREAM.name]!.length}, INVENTORY ${streamIds[INVENTORY_STREAM.name]!.length} (each exactly once); ` +
        `converged ${Math.round(convergeMs)} ms after the node loss; caller retries ${callerRetries}; restarted node current after ${Math.round(catchUpMs)} ms; reconciler: ${reconciled.orders} orders, ${reconciled.disagreements.length} disagreements`,
    );
  });
});
