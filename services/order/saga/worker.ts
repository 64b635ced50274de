import { claimDueOrders } from '../data/orders.js';
import { OrderOwnershipLost } from '../domain/change-order.js';
import type { OrderDeps } from '../domain/deps.js';
import type { Logger } from '#libs/logging/logger.js';
import { inSpan } from '#libs/telemetry/trace-context.js';
import { advanceOrder } from './advance-order.js';

export interface SagaWorker {
  start(): void;
  /** Stops claiming; resolves when the orders in hand finished their step. */
  stop(): Promise<void>;
  /** Something became due now: run a round without waiting for the poll. */
  wake(): void;
  /** One round outside the loop; resolves to the orders advanced. */
  runOnce(): Promise<number>;
  /** Runs the rest of an order's step in the background, tracked until it ends (stop() waits for it). */
  carryOn(work: () => Promise<unknown>, orderId: string): void;
}

/**
 * Drives orders from the database: claims due orders (SKIP LOCKED + lease),
 * advances each one step, repeats. Any number of replicas can run this side
 * by side; a crash leaves leases that lapse, and the orders resume.
 */
export function createSagaWorker(options: { deps: OrderDeps; logger: Logger; intervalMs: number; concurrency: number }): SagaWorker {
  const { deps, intervalMs, concurrency } = options;
  const logger = options.logger.child({ component: 'saga' });
  let running = false;
  let loop: Promise<void> | undefined;
  let wakeUp: (() => void) | undefined;
  let woken = false;
  const carried = new Set<Promise<void>>();

  async function runOnce(): Promise<number> {
    const claimed = await claimDueOrders(deps.db, deps.clock.now(), deps.saga.leaseMs, concurrency);
    await Promise.all(
      // A step claimed here runs long after its checkout's request (a stock wait, a retry,
      // a crash's lapsed lease): it starts a trace of its own, rooted at this span; the
      // order's correlation id ties it to the checkout in logs and events. Steps run
      // inline (Checkout's reservation, the payment it carries on) stay in the request's trace.
      claimed.map(async (claim) => {
        await logged(() => inSpan('saga.advance', { 'larder.order_id': claim.order.id }, () => advanceOrder(deps, claim)), claim.order.id);
      }),
    );
    return claimed.length;
  }

  /** Runs a step; its failure is logged, and the lease lapses so the order is retried then. */
  async function logged(work: () => Promise<unknown>, orderId: string): Promise<void> {
    try {
      await work();
      logger.debug({ orderId }, 'order advanced');
    } catch (error) {
      if (error instanceof OrderOwnershipLost) logger.warn({ orderId }, error.message);
      else logger.error({ err: error, orderId }, 'saga step failed');
    }
  }

  const sleep = () =>
    new Promise<void>((resolve) => {
      if (woken) {
        woken = false;
        resolve();
        return;
      }
      const timer = setTimeout(resolve, intervalMs);
      wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    }).finally(() => {
      wakeUp = undefined;
    });

  async function run(): Promise<void> {
    while (running) {
      let advanced = 0;
      try {
        advanced = await runOnce();
      } catch (error) {
        logger.warn({ err: error }, 'could not claim orders');
      }
      // A full batch means more may be due: go again at once.
      if (running && advanced < concurrency) await sleep();
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      loop = run();
    },
    async stop() {
      running = false;
      wakeUp?.();
      await loop;
      await Promise.all(carried);
    },
    wake() {
      if (wakeUp) wakeUp();
      else woken = true;
    },
    runOnce,
    carryOn(work, orderId) {
      const done = logged(work, orderId).finally(() => carried.delete(done));
      carried.add(done);
    },
  };
}
