import { InventoryServiceService } from '../../libs/contracts/larder/inventory/v1/inventory_service.js';
import { createInboxConsumer } from '../../libs/events/consumer.js';
import { INVENTORY_STREAM, ORDERS_STREAM } from '../../libs/events/streams.js';
import type { Logger } from '../../libs/logging/logger.js';
import { ServiceRuntime } from '../../libs/service/runtime.js';
import { every } from '../../libs/timers/every.js';
import type { InventoryConfig } from './config.js';
import { applyOrderEvent, ORDER_SUBJECTS } from './consumers/order-events.js';
import type { InventoryDeps } from './domain/deps.js';
import { expireReservations } from './domain/reservations/expire-reservations.js';
import { systemClock, type Clock } from './domain/types.js';
import { inventoryHandlers } from './transport/handlers.js';
import { inventoryScopes } from './transport/scopes.js';

export const INVENTORY_SERVICE_NAME = 'larder.inventory.v1.InventoryService';

export interface RunningInventory {
  port: number;
  deps: InventoryDeps;
  runtime: ServiceRuntime;
  /** Graceful stop: NOT_SERVING, drain calls, stop workers, close pools. */
  stop(): Promise<void>;
}

/**
 * The composition root's body: builds every dependency from config and starts
 * serving. main.ts calls it with the environment's config; tests call it with
 * their own database, broker and clock.
 */
export async function startInventory(config: InventoryConfig, logger: Logger, clock: Clock = systemClock): Promise<RunningInventory> {
  const runtime = new ServiceRuntime({
    name: 'larder-inventory',
    config,
    logger,
    serviceNames: [INVENTORY_SERVICE_NAME],
    // Ours to publish to, and the order service's to consume from.
    streams: [INVENTORY_STREAM, ORDERS_STREAM],
    outboxPollMs: config.outboxPollMs,
  });
  const deps: InventoryDeps = {
    db: runtime.db,
    clock,
    afterCommit: runtime.wakeRelay,
    defaultReservationTtlMs: config.defaultReservationTtlMs,
  };
  runtime.server.addService(InventoryServiceService, inventoryHandlers(deps), inventoryScopes);

  runtime.addBackground(
    every(
      config.sweepIntervalMs,
      async () => {
        const expired = await expireReservations(deps);
        if (expired > 0) logger.info({ expired }, 'released expired reservations');
      },
      logger,
    ),
  );
  runtime.whenNatsReady(async (nats) => {
    const consumer = createInboxConsumer({
      db: runtime.db,
      nats,
      logger: logger.child({ component: 'order-events' }),
      stream: ORDERS_STREAM.name,
      durableName: 'inventory-order-events',
      filterSubjects: ORDER_SUBJECTS,
      handle: (message, trx) => applyOrderEvent(deps, message, trx),
    });
    await consumer.start();
    return consumer;
  });

  const port = await runtime.listen();
  return { port, deps, runtime, stop: () => runtime.stop() };
}
