/**
 * Both services' databases on three PostgreSQL nodes under Patroni
 * (synchronous_mode) behind HAProxy on GET /primary: the operator example in
 * deploy/patroni and deploy/haproxy, run by test/support/patroni-cluster.ts.
 * One cluster and one system for the whole file, three failures in a row,
 * each under 16 buyers' checkouts, without restarting either service:
 *
 * 1. the leader SIGKILLed (Patroni and its postmaster) and kept down;
 * 2. failback: the old leader rejoins as a replica (pg_rewind as needed), then
 *    the new leader is killed;
 * 3. the synchronous standby killed instead: Patroni names the other replica.
 *
 * What a caller sees during the window (docs/database-failover.md): every
 * call that needs the database answers UNAVAILABLE with an ErrorInfo within
 * its deadline, never another code or a hang; health says NOT_SERVING while
 * no primary answers and SERVING after. Then everything converges: one order
 * per key, every paid order CONFIRMED with one capture, stock exact, the
 * reconciler clean, every outbox row in its stream exactly once.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import pg from 'pg';
import { parse } from 'yaml';
import type { Product } from '#libs/contracts/larder/inventory/v1/resources.js';
import { databaseName } from '#libs/db/admin.js';
import { waitUntilServing } from '#libs/grpc/health-probe.js';
import { eventually } from '#test/support/eventually.js';
import { startThrowawayNatsServer, type ThrowawayNatsServer } from '#test/support/nats-server.js';
import { HAPROXY_TEMPLATE, PATRONI_TEMPLATE, startPatroniCluster, type PatroniCluster } from '#test/support/patroni-cluster.js';
import { answeredIds, expectEachOrderOnce, expectStockExact, type Plan } from './checkout-outcomes.js';
import { expectStreamsMatchOutboxes, systemConverged } from './convergence.js';
import { notServingSpan, planOrders, startBuyers, startProber, tallyAnswers, type Answer } from './failover-load.js';
import { createProduct, reconcileSystem, startSystem, type TestSystem } from './system.js';

const BUYERS = 16;
const ORDERS = 48;
/** Orders answered before the kill: the rest are placed through the failure. */
const KILL_AFTER = 12;
const INITIAL_STOCK = 200;

interface Run {
  label: string;
  /** Kills something; returns the name of the node it killed. */
  kill: () => Promise<string>;
  /** Whether no primary answers for a while (leader killed), so health must drop and callers retry. */
  primaryLost: boolean;
}

interface Outcome {
  killed: string;
  killAt: number;
  answers: Answer[];
  probes: Answer[];
  plans: Plan[];
  ids: string[];
  products: Product[];
}

describe('database failover: both services on PostgreSQL under Patroni behind HAProxy', function () {
  this.timeout(180_000);
  let cluster: PatroniCluster;
  let nats: ThrowawayNatsServer;
  let nc: NatsConnection;
  let system: TestSystem;
  let pids: (number | undefined)[];
  let seed: { orderId: string; product: Product };

  before(async function () {
    this.timeout(240_000);
    cluster = await startPatroniCluster();
    // A broker of its own: the streams hold this system's events only, so they can be compared with its outboxes.
    nats = await startThrowawayNatsServer();
    nc = await connect({ servers: nats.url, name: 'database-failover' });
    system = await startSystem({
      databaseServer: cluster.url,
      inventoryEnv: { NATS_URL: nats.url },
      orderEnv: { NATS_URL: nats.url, PAYMENT_LATENCY_MS: '20', PAYMENT_TIMEOUT_MS: '2000', LEASE_MS: '2000' },
    });
    pids = [system.inventoryProcess.pid, system.orderProcess.pid];
    const product = await createProduct(system, INITIAL_STOCK);
    const { order } = await system.orders.createOrder({
      customerId: '00000000-0000-4000-8000-000000000001',
      idempotencyKey: 'failover-probe-order',
      paymentToken: 'tok_pay',
      items: [{ productId: product.id, quantity: 1 }],
    });
    seed = { orderId: order!.id, product };
  });
  after(async () => {
    // Each step whatever the one before did: the cluster must go even if the system's stop fails.
    const steps = [() => system?.stop(), () => nc?.close(), () => nats?.destroy(), () => cluster?.stop()];
    const failures: unknown[] = [];
    for (const step of steps) await Promise.resolve(step()).catch((error: unknown) => failures.push(error));
    if (failures.length > 0) throw failures[0];
  });

  /** 16 buyers place 48 orders; after the 12th is answered, `kill`. Returns what the callers saw, once all keys are answered. */
  async function checkoutsThrough(run: Run): Promise<Outcome> {
    const products = await Promise.all([0, 1, 2].map(() => createProduct(system, INITIAL_STOCK)));
    const plans = planOrders(run.label, ORDERS, products);
    const prober = startProber(system, seed.orderId, seed.product.id);
    let killing: Promise<{ killed: string; killAt: number }> | undefined;
    const buyers = startBuyers(system, plans, BUYERS, (answered) => {
      if (answered >= KILL_AFTER && !killing) {
        const killAt = performance.now();
        killing = run.kill().then((killed) => ({ killed, killAt }));
      }
    });
    await buyers.done;
    const { killed, killAt } = await killing!;
    // Health follows the database within its monitor's period (2 s): keep probing until both say SERVING again.
    const lastHealth = (service: string) => prober.log.filter((p) => p.call === `health:${service}`).at(-1)?.code;
    await eventually(
      'both services SERVING again',
      () =>
        ['inventory', 'order'].every((s) => lastHealth(s) === 'SERVING') ||
        `inventory ${lastHealth('inventory')}, order ${lastHealth('order')}`,
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    await prober.stop();
    expect(buyers.refused, `answers other than OK or UNAVAILABLE (logs: ${system.logDir})`).to.deep.equal([]);
    return { killed, killAt, answers: buyers.log, probes: prober.log, plans, ids: answeredIds(plans, buyers.answers), products };
  }

  /**
   * What a caller saw, then convergence: every answer OK or UNAVAILABLE with a
   * reason, within the deadline; health as the run expects; one order per key,
   * outcomes, stock, outboxes against streams, the reconciler; both services
   * the processes they were. Logs one line of figures.
   */
  async function expectSurvived(run: Run, outcome: Outcome): Promise<void> {
    const { killAt, answers, probes, plans, ids, products } = outcome;
    const after = [...answers, ...probes.filter((p) => !p.call.startsWith('health:'))].filter((a) => a.at >= killAt);
    const unexpected = after.filter((a) => a.code !== 'OK' && !(a.code === 'UNAVAILABLE' && a.reason));
    expect(unexpected, 'answers after the kill that were neither OK nor UNAVAILABLE with an ErrorInfo').to.deep.equal([]);
    const retried = answers.filter((a) => a.code === 'UNAVAILABLE');
    const windowMs = retried.length > 0 ? Math.max(...retried.map((a) => a.at)) - killAt : 0;
    const slowest = (code: string) => Math.round(Math.max(...after.filter((a) => a.code === code).map((a) => a.ms), 0));

    const spans = { inventory: notServingSpan(probes, 'inventory', killAt), order: notServingSpan(probes, 'order', killAt) };
    if (run.primaryLost) {
      expect(retried.length, 'callers retried: the kill took the primary away mid-traffic').to.be.greaterThan(0);
      expect(spans.inventory, 'inventory health went NOT_SERVING while no primary answered').to.not.equal(undefined);
      expect(spans.order, 'order health went NOT_SERVING while no primary answered').to.not.equal(undefined);
    }

    const jsm = await nc.jetstreamManager();
    await eventually(
      'every order, event and consumer to converge',
      () =>
        systemConverged(
          system,
          jsm,
          ids,
          products.map((p) => p.id),
        ),
      {
        timeoutMs: 90_000,
        intervalMs: 200,
      },
    );
    const convergedMs = performance.now() - killAt;
    const statusByKey = await expectEachOrderOnce(system, plans, ids);
    const confirmed = plans.filter((plan) => statusByKey.get(plan.key) === 'CONFIRMED');
    await expectStockExact(system, confirmed, products, INITIAL_STOCK);
    const streams = await expectStreamsMatchOutboxes(system, nc);
    const reconciled = await reconcileSystem(system);
    expect(reconciled.disagreements, 'reconciler').to.deep.equal([]);
    // Both services rode it out: the same processes as at the start, SERVING.
    expect([system.inventoryProcess.pid, system.orderProcess.pid], 'service PIDs (no restart)').to.deep.equal(pids);
    for (const address of [system.orderAddress, `127.0.0.1:${system.inventoryProcess.port}`])
      expect(await waitUntilServing(address, 10_000), `${address} SERVING after the failover`).to.equal(true);

    const statuses: Record<string, number> = {};
    for (const status of statusByKey.values()) statuses[status] = (statuses[status] ?? 0) + 1;
    const units = confirmed.flatMap((p) => p.items).reduce((sum, item) => sum + item.quantity, 0);
    const seconds = (ms: number) => (ms / 1000).toFixed(1);
    const span = (s?: { from: number; to: number }) => (s ? `+${seconds(s.from)}..+${seconds(s.to)} s` : 'never');
    console.log(
      `      ${run.label}: killed ${outcome.killed}; window ${seconds(windowMs)} s (kill to last retried call), ` +
        `caller retries ${retried.length}, slowest UNAVAILABLE ${slowest('UNAVAILABLE')} ms, slowest OK ${slowest('OK')} ms; ` +
        `answers after the kill ${JSON.stringify(tallyAnswers(after))}; NOT_SERVING inventory ${span(spans.inventory)}, order ${span(spans.order)}; ` +
        `${ORDERS} orders ${JSON.stringify(statuses)}, ${units} units sold = confirmed items, 0 reserved, invariant clean; ` +
        `stream events = outbox rows (all runs so far): ${Object.entries(streams)
          .map(([name, ids]) => `${name} ${ids.length}`)
          .join(', ')}; reconciler: ${reconciled.orders} orders agree; converged ${seconds(convergedMs)} s after the kill`,
    );
  }

  /** The leader (Patroni and its postmaster) SIGKILLed under checkouts and kept down; another member must lead, and everything converge. */
  async function killLeaderUnderCheckouts(label: string): Promise<void> {
    const run: Run = {
      label,
      primaryLost: true,
      async kill() {
        const leader = await cluster.waitForRole('leader');
        await cluster.kill(cluster.indexOf(leader));
        return leader;
      },
    };
    const outcome = await checkoutsThrough(run);
    await cluster.waitForRole('leader', { exclude: [outcome.killed] });
    await expectSurvived(run, outcome);
  }

  it('runs the example configuration: synchronous_mode, maximum_lag_on_failover, pg_rewind, HAProxy on GET /primary', async () => {
    const example = parse(readFileSync(PATRONI_TEMPLATE, 'utf8')) as { bootstrap: { dcs: Record<string, unknown> } };
    const leader = cluster.nodes[cluster.indexOf(await cluster.waitForRole('leader'))]!;
    const live = (await (await fetch(`http://127.0.0.1:${leader.apiPort}/config`)).json()) as Record<string, unknown> & {
      postgresql?: { use_pg_rewind?: boolean };
    };
    for (const setting of ['synchronous_mode', 'synchronous_mode_strict', 'maximum_lag_on_failover'])
      expect(live[setting], `${setting} in force`).to.deep.equal(example.bootstrap.dcs[setting]);
    expect(live.synchronous_mode, 'synchronous_mode').to.equal(true);
    expect(live.postgresql?.use_pg_rewind, 'use_pg_rewind').to.equal(true);
    const haproxy = readFileSync(`${cluster.dir}/haproxy.cfg`, 'utf8');
    expect(readFileSync(HAPROXY_TEMPLATE, 'utf8')).to.include('option httpchk GET /primary');
    for (const line of ['option httpchk GET /primary', 'http-check expect status 200', 'on-marked-down shutdown-sessions'])
      expect(haproxy, `the running HAProxy has "${line}"`).to.include(line);
  });

  it('leader SIGKILLed under checkouts and kept down: callers see UNAVAILABLE, then every order converges exactly once', async () => {
    await killLeaderUnderCheckouts('leader killed');
  });

  it('failback: the old leader rejoins as a replica, then the new leader is killed under checkouts', async () => {
    const down = cluster.nodes.filter((node) => !node.running).map((node) => node.name);
    expect(down, 'the node the last test killed is still down').to.have.length(1);
    const rejoining = cluster.indexOf(down[0]!);
    await cluster.restart(rejoining);
    const rewound = cluster.logLines(rejoining, /pg_rewind exit code=0/).length > 0;
    console.log(`      ${down[0]} rejoined as a replica${rewound ? ' after pg_rewind' : ' (no pg_rewind needed)'}`);
    await killLeaderUnderCheckouts('failback');
  });

  it('synchronous standby SIGKILLed under checkouts: Patroni names the other replica, writes go on, no acknowledged commit is lost', async () => {
    const down = cluster.nodes.filter((node) => !node.running).map((node) => node.name);
    for (const name of down) await cluster.restart(cluster.indexOf(name));
    const leader = await cluster.waitForRole('leader');
    const standby = await cluster.waitForRole('sync_standby');
    let renamedMs = 0;
    const run: Run = {
      label: 'sync standby killed',
      primaryLost: false,
      async kill() {
        const started = performance.now();
        await cluster.kill(cluster.indexOf(standby));
        await cluster.waitForRole('sync_standby', { exclude: [standby], timeoutMs: 30_000 });
        renamedMs = performance.now() - started;
        return standby;
      },
    };
    const outcome = await checkoutsThrough(run);
    const successor = await cluster.waitForRole('sync_standby', { exclude: [standby] });
    expect(await cluster.memberWith('leader'), 'the leader stayed').to.equal(leader);
    const placedAfter = outcome.answers.filter((a) => a.code === 'OK' && a.at > outcome.killAt).length;
    expect(placedAfter, 'orders placed after the standby died').to.be.greaterThan(0);
    await expectSurvived(run, outcome);
    // Each acknowledged order is on the new synchronous standby too (read there directly, once replayed).
    const node = cluster.nodes[cluster.indexOf(successor)]!;
    const replica = new pg.Client({ host: '127.0.0.1', port: node.port, user: 'postgres', database: databaseName(system.orderDb.url) });
    await replica.connect();
    try {
      await eventually('every acknowledged order on the new synchronous standby', async () => {
        const { rows } = await replica.query<{ n: string }>('select count(*) as n from orders where id = any($1)', [outcome.ids]);
        return Number(rows[0]!.n) === outcome.ids.length || `${rows[0]!.n} of ${outcome.ids.length}`;
      });
    } finally {
      await replica.end();
    }
    console.log(
      `      Patroni named ${successor} synchronous standby ${(renamedMs / 1000).toFixed(1)} s after ${standby} died; leader ${leader} stayed`,
    );
  });

  it('HAProxy restarted under checkouts: a write that lands on a replica before the checks mark it down answers UNAVAILABLE', async () => {
    const run: Run = {
      label: 'HAProxy restarted',
      primaryLost: false,
      async kill() {
        await cluster.restartProxy();
        return 'haproxy';
      },
    };
    const outcome = await checkoutsThrough(run);
    await expectSurvived(run, outcome);
    // How many writes did land on a replica (each service logs the cause of an UNAVAILABLE as a warning).
    const readOnly = ['order.log', 'inventory.log']
      .map((file) => readFileSync(join(system.logDir, file), 'utf8').split('the database is read-only (not the primary)').length - 1)
      .reduce((a, b) => a + b, 0);
    console.log(`      writes that reached a replica and answered UNAVAILABLE: ${readOnly}`);
  });
});
