import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { pino } from 'pino';
import { capturingLogger } from '#test/support/capturing-logger.js';
import { withDatabase } from '#libs/db/admin.js';
import { createDatabase } from '#libs/db/knex.js';
import { TEST_DATABASE_SERVER } from '#test/support/test-database.js';
import { sleep, waitFor } from '#libs/events/test/helpers.js';
import { createSagaWorker, type SagaWorker } from '../../saga/worker.js';
import { EUR, PRODUCT_A, useSagaHarness } from './saga-harness.js';

/** A promise the test settles by hand: a step that waits on it is "in flight" until then. */
function gate<T>() {
  let open!: (value: T) => void;
  const opened = new Promise<T>((resolve) => (open = resolve));
  return { opened, open };
}

/** Long enough that nothing in these tests may wait for it: only a wake or a full batch runs a round. */
const IDLE_POLL_MS = 60_000;
/** How long the loop-rest test watches for rounds that should not happen. */
const QUIET_WINDOW_MS = 300;

describe('saga worker in-process', function () {
  const h = useSagaHarness();
  let worker: SagaWorker | undefined;

  beforeEach(async () => {
    // Each test starts with nothing due.
    await h.db('orders').update({ next_attempt_at: null });
  });
  afterEach(async () => {
    await worker?.stop();
    worker = undefined;
  });

  /** Deps whose clock counts its reads: each worker round reads it once (when nothing is due). */
  function countRounds() {
    let reads = 0;
    const deps = { ...h.deps, clock: { now: () => (reads++, h.deps.clock.now()) } };
    return { deps, count: () => reads };
  }

  const statusOf = async (id: string) => (await h.stored(id)).status;
  /** CONFIRMED with nothing to do: a step on it only clears its due time. */
  const idleOrder = () => h.order({ status: 'CONFIRMED', paymentStatus: 'CAPTURED', total: EUR(500) });

  it('runOnce advances at most `concurrency` due orders a round and says how many; each is logged', async () => {
    const { logger, lines } = capturingLogger();
    worker = createSagaWorker({ deps: h.deps, logger, intervalMs: IDLE_POLL_MS, concurrency: 2 });
    const orders = [await idleOrder(), await idleOrder(), await idleOrder()];
    expect(await worker.runOnce()).to.equal(2);
    expect(await worker.runOnce()).to.equal(1);
    expect(await worker.runOnce()).to.equal(0);
    const advanced = lines.filter((l) => l.msg === 'order advanced');
    expect(advanced.map((l) => l.orderId).sort()).to.deep.equal(orders.map((o) => o.id).sort());
    expect(advanced.map((l) => [l.component, l.level])).to.deep.equal(Array(3).fill(['saga', 20]));
  });

  it('a step that throws is logged with its order and does not stop the others in its round', async () => {
    const { logger, lines } = capturingLogger();
    worker = createSagaWorker({ deps: h.deps, logger, intervalMs: IDLE_POLL_MS, concurrency: 5 });
    const failing = await h.order();
    const fine = await idleOrder();
    h.inventory.next('reserve', () => {
      throw new Error('boom');
    });
    expect(await worker.runOnce()).to.equal(2);
    expect((await h.stored(fine.id)).nextAttemptAt).to.equal(undefined);
    const failed = lines.filter((l) => l.msg === 'saga step failed');
    expect(failed).to.have.length(1);
    expect(failed[0]!.orderId).to.equal(failing.id);
    expect(failed[0]!.level).to.equal(50);
    expect((failed[0]!.err as { message: string }).message).to.equal('boom');
  });

  it('a step that lost its lease to another worker is a warning, not an error', async () => {
    const { logger, lines } = capturingLogger();
    worker = createSagaWorker({ deps: h.deps, logger, intervalMs: IDLE_POLL_MS, concurrency: 5 });
    const order = await h.order();
    h.inventory.next('reserve', async () => {
      // Another worker took the order over while inventory was answering.
      await h.db('orders').update({ lease_token: randomUUID() }).where({ id: order.id });
      return { kind: 'reserved' as const, items: [{ productId: PRODUCT_A, quantity: 2, unitPrice: EUR(250) }] };
    });
    expect(await worker.runOnce()).to.equal(1);
    expect(await statusOf(order.id)).to.equal('PENDING');
    const warned = lines.filter((l) => l.level === 40);
    expect(warned.map((l) => [l.orderId, l.msg])).to.deep.equal([
      [order.id, `order ${order.id} changed under us; this step's result was discarded`],
    ]);
    expect(lines.filter((l) => l.level === 50)).to.deep.equal([]);
  });

  it('the loop goes again at once after a full batch, so a backlog does not wait for the poll', async () => {
    worker = createSagaWorker({ deps: h.deps, logger: pino({ level: 'silent' }), intervalMs: IDLE_POLL_MS, concurrency: 2 });
    const orders = [await idleOrder(), await idleOrder(), await idleOrder(), await idleOrder(), await idleOrder()];
    worker.start();
    await waitFor('all five orders advanced by the loop', async () => {
      const rows = await h
        .db('orders')
        .whereIn(
          'id',
          orders.map((o) => o.id),
        )
        .whereNotNull('next_attempt_at');
      return rows.length === 0;
    });
  });

  it('wake() runs a round now instead of after the poll; stop() does not wait for the poll either', async () => {
    worker = createSagaWorker({ deps: h.deps, logger: pino({ level: 'silent' }), intervalMs: IDLE_POLL_MS, concurrency: 2 });
    worker.start();
    // The first round finds nothing and the loop sleeps.
    const order = await idleOrder();
    worker.wake();
    await waitFor('the woken worker advanced the order', async () => (await h.stored(order.id)).nextAttemptAt === undefined);
    const stopped = worker.stop().then(() => 'stopped');
    const result = await Promise.race([stopped, new Promise((resolve) => setTimeout(resolve, 10_000, 'still waiting'))]);
    expect(result).to.equal('stopped');
    worker = undefined;
  });

  it('a wake() while a round is in flight is not lost: the next round starts straight after', async () => {
    const rounds = countRounds();
    worker = createSagaWorker({ deps: rounds.deps, logger: pino({ level: 'silent' }), intervalMs: IDLE_POLL_MS, concurrency: 2 });
    // A first, empty round, and the loop goes to sleep.
    worker.start();
    await waitFor('the first round', () => rounds.count() === 1);
    const inFlight = gate<void>();
    const reached = gate<void>();
    h.inventory.next('reserve', async () => {
      reached.open();
      await inFlight.opened;
      return { kind: 'unavailable' as const, message: 'inventory down' };
    });
    const slow = await h.order();
    worker.wake();
    await reached.opened;
    // Due while the round that holds `slow` is still running.
    const later = await idleOrder();
    worker.wake();
    inFlight.open();
    await waitFor('the order that became due mid-round advanced', async () => (await h.stored(later.id)).nextAttemptAt === undefined);
    expect((await h.stored(slow.id)).lastError).to.equal('inventory down');
    // The wake was used up: the loop rests again (no clock read at all in a quiet window).
    const reads = rounds.count();
    await sleep(QUIET_WINDOW_MS);
    expect(rounds.count()).to.equal(reads);
  });

  it('the loop rests between rounds: one round per start (however often called) and per wake; none after stop()', async () => {
    const rounds = countRounds();
    worker = createSagaWorker({ deps: rounds.deps, logger: pino({ level: 'silent' }), intervalMs: IDLE_POLL_MS, concurrency: 2 });
    worker.start();
    worker.start();
    await waitFor('the first round', () => rounds.count() >= 1);
    // A quiet window, not a wait for a condition: a loop that does not rest would run hundreds of rounds in it.
    await sleep(QUIET_WINDOW_MS);
    expect(rounds.count()).to.equal(1);
    worker.wake();
    await waitFor('the woken round', () => rounds.count() >= 2);
    await sleep(QUIET_WINDOW_MS);
    expect(rounds.count()).to.equal(2);
    await worker.stop();
    worker.wake();
    await sleep(QUIET_WINDOW_MS);
    expect(rounds.count()).to.equal(2);
    worker = undefined;
  });

  it('carryOn runs the work in the background, logs how it ended, and stop() waits for it', async () => {
    const { logger, lines } = capturingLogger();
    worker = createSagaWorker({ deps: h.deps, logger, intervalMs: IDLE_POLL_MS, concurrency: 2 });
    const held = gate<void>();
    worker.carryOn(() => held.opened, 'order-fine');
    worker.carryOn(async () => {
      throw new Error('payment blew up');
    }, 'order-failing');
    let stopped = false;
    const stopping = worker.stop().then(() => (stopped = true));
    // Let everything that can settle settle: stop() must still be waiting for the held work.
    for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).to.equal(false);
    held.open();
    await stopping;
    worker = undefined;
    expect(lines.filter((l) => l.msg === 'order advanced').map((l) => l.orderId)).to.deep.equal(['order-fine']);
    const failed = lines.filter((l) => l.msg === 'saga step failed');
    expect(failed.map((l) => [l.orderId, (l.err as { message: string }).message])).to.deep.equal([['order-failing', 'payment blew up']]);
  });

  it('a round that cannot claim is a warning, and the loop keeps going', async () => {
    const { logger, lines } = capturingLogger();
    const missing = createDatabase({ url: withDatabase(TEST_DATABASE_SERVER, `saga_missing_${Date.now().toString(36)}`), poolMax: 1 });
    try {
      worker = createSagaWorker({ deps: { ...h.deps, db: missing }, logger, intervalMs: 20, concurrency: 2 });
      worker.start();
      await waitFor('two failed claims logged', () => lines.filter((l) => l.msg === 'could not claim orders').length >= 2);
      const failed = lines.filter((l) => l.msg === 'could not claim orders');
      expect(failed.map((l) => [l.level, l.component])).to.deep.equal(Array(failed.length).fill([40, 'saga']));
      expect((failed[0]!.err as { message: string }).message).to.match(/does not exist/);
      await worker.stop();
      worker = undefined;
    } finally {
      await missing.destroy();
    }
  });
});
