import { CartServiceService } from '#libs/contracts/larder/order/v1/cart_service.js';
import { OrderServiceService } from '#libs/contracts/larder/order/v1/order_service.js';
import { INVENTORY_STREAM, ORDERS_STREAM } from '#libs/events/streams.js';
import { handlersOf, scopesOf } from '#libs/grpc/rpc-table.js';
import type { Logger } from '#libs/logging/logger.js';
import { ServiceRuntime } from '#libs/service/runtime.js';
import type { OrderConfig } from './config.js';
import { orderEvents } from './contract/events.js';
import { applyInventoryEvent, INVENTORY_SUBJECTS } from './consumers/inventory-events.js';
import type { OrderDeps } from './domain/deps.js';
import { systemClock, type Clock } from '#libs/timers/clock.js';
import { type Random } from './domain/types.js';
import { createInventoryClient } from './inventory/grpc-client.js';
import { orderObserver } from './metrics.js';
import type { PaymentGateway } from './domain/payment-port.js';
import { jsonLinesWriter, recordingGateway } from './payments/recording-gateway.js';
import { createPaymentSimulator } from './payments/simulator.js';
import { advanceOrder } from './saga/advance-order.js';
import { createSagaWorker } from './saga/worker.js';
import { cartRpcs } from './transport/carts.js';
import { orderRpcs } from './transport/orders.js';
import { customerTokensFor } from './transport/customer-token.js';

export const ORDER_SERVICE_NAMES = ['larder.order.v1.CartService', 'larder.order.v1.OrderService'];

export interface RunningOrder {
  port: number;
  deps: OrderDeps;
  runtime: ServiceRuntime;
  stop(): Promise<void>;
}

export interface OrderOverrides {
  clock?: Clock;
  random?: Random;
  /** A gateway other than the configured simulator (tests). */
  payments?: PaymentGateway;
}

/** Builds the order service from config and starts serving (main.ts, or a test with its own database). */
export async function startOrder(config: OrderConfig, logger: Logger, overrides: OrderOverrides = {}): Promise<RunningOrder> {
  const runtime = new ServiceRuntime({
    name: 'larder-order',
    config,
    logger,
    serviceNames: ORDER_SERVICE_NAMES,
    streams: [ORDERS_STREAM, INVENTORY_STREAM],
    outboxPollMs: config.outboxPollMs,
    tokens: customerTokensFor(config.tokens),
  });
  const clock = overrides.clock ?? systemClock;
  const random = overrides.random ?? Math.random;
  const inventory = createInventoryClient({
    address: config.inventoryAddress,
    apiKey: config.inventoryApiKey,
    timeoutMs: config.inventoryTimeoutMs,
    logger: logger.child({ component: 'inventory-client' }),
  });
  let payments = overrides.payments ?? createPaymentSimulator({ db: runtime.db, clock, random, ...config.payments });
  if (config.paymentCallLog) payments = recordingGateway(payments, jsonLinesWriter(config.paymentCallLog));
  let wakeWorker = (): void => undefined;
  let carryOn: OrderDeps['carryOn'] = (work) => void work();
  const deps: OrderDeps = {
    db: runtime.db,
    clock,
    random,
    inventory,
    payments,
    saga: {
      retry: config.retry,
      paymentMaxAttempts: config.paymentMaxAttempts,
      paymentTimeoutMs: config.paymentTimeoutMs,
      reservationTtlMs: config.reservationTtlMs,
      leaseMs: config.leaseMs,
    },
    events: orderEvents,
    advance: (claimed, correlationId, options) => advanceOrder(deps, claimed, correlationId, options),
    afterCommit: runtime.wakeRelay,
    wakeWorker: () => wakeWorker(),
    carryOn: (work, orderId) => carryOn(work, orderId),
    observer: orderObserver(runtime.metrics),
    crash: runtime.crash,
  };
  runtime.server.addService(CartServiceService, handlersOf(cartRpcs, deps), scopesOf(cartRpcs));
  runtime.server.addService(OrderServiceService, handlersOf(orderRpcs, deps), scopesOf(orderRpcs));

  const worker = createSagaWorker({ deps, logger, intervalMs: config.workerIntervalMs, concurrency: config.workerConcurrency });
  wakeWorker = worker.wake;
  carryOn = worker.carryOn;
  worker.start();
  runtime.addBackground({ stop: async () => inventory.close() });
  runtime.addBackground(worker);
  runtime.consume({
    component: 'inventory-events',
    stream: INVENTORY_STREAM.name,
    durableName: 'order-inventory-events',
    filterSubjects: INVENTORY_SUBJECTS,
    handle: async (message, trx, { afterCommit }) => {
      // Woken once the inbox transaction has committed: before, the worker would not see the orders made due.
      if (await applyInventoryEvent(deps, message, trx)) afterCommit(deps.wakeWorker);
    },
  });

  const port = await runtime.serve();
  return { port, deps, runtime, stop: () => runtime.stop() };
}
