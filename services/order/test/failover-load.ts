import { credentials, Metadata, status as Code, type ServiceError } from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import { HealthCheckResponse_ServingStatus as Serving, HealthClient } from '#libs/contracts/grpc/health/v1/health.js';
import type { Product } from '#libs/contracts/larder/inventory/v1/resources.js';
import { errorInfoOf } from '#libs/grpc/status.js';
import { delay } from '#test/support/free-port.js';
import { createOrderOf, type Plan } from './checkout-outcomes.js';
import type { TestSystem } from './system.js';

/**
 * Load for the database failover tests: buyers placing orders through a
 * failure, each retrying its own key on UNAVAILABLE only, and a prober that
 * reads from both services and asks their health every 100 ms. Both record
 * every answer (when, what, code, ErrorInfo reason, how long), so the test can
 * check what a caller saw during the window.
 */

/** One answer a caller got. `at` is performance.now(). */
export interface Answer {
  at: number;
  call: string;
  /** The gRPC status name, or for health checks the serving status ('SERVING', 'NOT_SERVING'). */
  code: string;
  /** ErrorInfo.reason of an error, if the server attached one. */
  reason?: string;
  ms: number;
}

/** How long a buyer waits between two tries of its key, and how many tries it makes at most. */
const RETRY_PAUSE_MS = 100;
const MAX_TRIES = 400;
/**
 * The buyers' deadline: long enough that a slow answer on a loaded machine is
 * not mistaken for a hang (answers during the window took up to about 3 s on a
 * shared 2-core machine), short enough that a call stuck on a dead connection fails the test.
 */
const BUYER_DEADLINE_MS = 10_000;
/** The prober's period and deadlines. */
const PROBE_EVERY_MS = 100;
const READ_DEADLINE_MS = 10_000;
const HEALTH_DEADLINE_MS = 3_000;

/** `count` orders over the products: one or two items, every fourth card declined. */
export function planOrders(label: string, count: number, products: readonly Product[]): Plan[] {
  return Array.from({ length: count }, (_, i) => {
    const items = [{ productId: products[i % products.length]!.id, quantity: 1 + (i % 2) }];
    if (i % 5 === 2) items.push({ productId: products[(i + 1) % products.length]!.id, quantity: 1 });
    return { key: `failover-${label}-${i}`, customerId: randomUUID(), token: i % 4 === 3 ? 'tok_decline' : 'tok_pay', items };
  });
}

const answerOf = (call: string, started: number, error?: unknown): Answer => {
  const at = performance.now();
  if (!error) return { at, call, code: 'OK', ms: at - started };
  const code = (error as ServiceError).code;
  return {
    at,
    call,
    code: typeof code === 'number' ? Code[code]! : `THROWN: ${(error as Error).message}`,
    reason: errorInfoOf(error as ServiceError)?.reason,
    ms: at - started,
  };
};

/**
 * `buyers` callers place the plans, each retrying its own key (same request)
 * every 100 ms while the answer is UNAVAILABLE; any other error is kept as the
 * key's answer and that buyer goes on with the next plan. `onAnswered(n)` is
 * called after each order answered (to kill something after the n-th).
 */
export function startBuyers(system: TestSystem, plans: readonly Plan[], buyers: number, onAnswered: (answered: number) => void) {
  const answers = new Map<string, string[]>();
  const log: Answer[] = [];
  const refused: Answer[] = [];
  let next = 0;
  const place = async (plan: Plan): Promise<void> => {
    for (let tries = 1; tries <= MAX_TRIES; tries++) {
      const started = performance.now();
      try {
        const { order } = await createOrderOf(system, plan, BUYER_DEADLINE_MS);
        log.push(answerOf('CreateOrder', started));
        answers.set(plan.key, [...(answers.get(plan.key) ?? []), order!.id]);
        onAnswered(answers.size);
        return;
      } catch (error) {
        const answer = answerOf('CreateOrder', started, error);
        log.push(answer);
        if (answer.code !== 'UNAVAILABLE') {
          refused.push(answer);
          return;
        }
        await delay(RETRY_PAUSE_MS);
      }
    }
  };
  const done = Promise.all(
    Array.from({ length: buyers }, async () => {
      while (next < plans.length) await place(plans[next++]!);
    }),
  );
  return { answers, log, refused, done };
}

/** Check on the whole server (""), as a load balancer asks: the serving status, or the error's code. */
async function healthOf(client: HealthClient): Promise<{ code: string }> {
  return new Promise((resolve) =>
    client.check({ service: '' }, new Metadata(), { deadline: Date.now() + HEALTH_DEADLINE_MS }, (error, response) =>
      resolve({ code: error ? `HEALTH_${Code[error.code]}` : Serving[response.status]! }),
    ),
  );
}

/**
 * Every 100 ms until stopped: GetOrder on the order service, BatchGetStockLevels
 * on the inventory (both need their database; 10 s deadlines), and both services'
 * health (3 s). Each probe waits for its answer before the next.
 */
export function startProber(system: TestSystem, orderId: string, productId: string) {
  const log: Answer[] = [];
  let stopped = false;
  const health = {
    order: new HealthClient(system.orderAddress, credentials.createInsecure()),
    inventory: new HealthClient(`127.0.0.1:${system.inventoryProcess.port}`, credentials.createInsecure()),
  };
  const probes: [string, () => Promise<unknown>][] = [
    ['GetOrder', () => system.orders.getOrder({ id: orderId }, { timeoutMs: READ_DEADLINE_MS })],
    ['BatchGetStockLevels', () => system.inventory.batchGetStockLevels({ productIds: [productId] }, { timeoutMs: READ_DEADLINE_MS })],
  ];
  const loops = [
    ...probes.map(async ([call, probe]) => {
      while (!stopped) {
        const started = performance.now();
        log.push(
          await probe().then(
            () => answerOf(call, started),
            (error: unknown) => answerOf(call, started, error),
          ),
        );
        await delay(PROBE_EVERY_MS);
      }
    }),
    ...Object.entries(health).map(async ([service, client]) => {
      while (!stopped) {
        const started = performance.now();
        const { code } = await healthOf(client);
        log.push({ at: performance.now(), call: `health:${service}`, code, ms: performance.now() - started });
        await delay(PROBE_EVERY_MS);
      }
    }),
  ];
  return {
    log,
    async stop() {
      stopped = true;
      await Promise.all(loops);
      for (const client of Object.values(health)) client.close();
    },
  };
}

/** How many answers had each code (and reason), e.g. { 'UNAVAILABLE DATABASE_UNAVAILABLE': 40, OK: 300 }. */
export function tallyAnswers(answers: readonly Answer[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const a of answers) {
    const key = a.reason ? `${a.code} ${a.reason}` : a.code;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** From the first to the last time `service`'s health answered NOT_SERVING (ms after `since`), if it did. */
export function notServingSpan(log: readonly Answer[], service: string, since: number): { from: number; to: number } | undefined {
  const down = log.filter((a) => a.call === `health:${service}` && a.at >= since && a.code === 'NOT_SERVING');
  if (down.length === 0) return undefined;
  return { from: down[0]!.at - since, to: down[down.length - 1]!.at - since };
}
