import type { Knex } from 'knex';
import type { NatsConnection } from 'nats';
import { createDatabase, isDatabaseReachable } from '../../libs/db/knex.js';
import { InventoryServiceService } from '../../libs/contracts/larder/inventory/v1/inventory_service.js';
import { connectNats } from '../../libs/events/nats-connection.js';
import { createOutboxRelay, type OutboxRelay } from '../../libs/events/relay.js';
import { ensureStream, INVENTORY_STREAM } from '../../libs/events/streams.js';
import { GrpcServer } from '../../libs/grpc/server.js';
import { Serving } from '../../libs/grpc/health.js';
import type { Logger } from '../../libs/logging/logger.js';
import { every, type Repeating } from '../../libs/timers/every.js';
import type { InventoryConfig } from './config.js';
import type { InventoryDeps } from './domain/deps.js';
import { expireReservations } from './domain/reservations/expire-reservations.js';
import { systemClock, type Clock } from './domain/types.js';
import { inventoryHandlers } from './transport/handlers.js';
import { inventoryScopes } from './transport/scopes.js';

export const INVENTORY_SERVICE_NAME = 'larder.inventory.v1.InventoryService';

export interface RunningInventory {
  port: number;
  deps: InventoryDeps;
  server: GrpcServer;
  /** Resolves once NATS is connected and the relay runs. */
  relay: Promise<OutboxRelay>;
  /** Graceful stop: NOT_SERVING, drain calls, stop workers, close pools. */
  stop(): Promise<void>;
}

/**
 * The composition root's body: builds every dependency from config and starts
 * serving. main.ts calls it with the environment's config; tests call it with
 * their own database, broker and clock.
 */
export async function startInventory(config: InventoryConfig, logger: Logger, clock: Clock = systemClock): Promise<RunningInventory> {
  const db: Knex = createDatabase({
    url: config.databaseUrl,
    poolMax: config.dbPoolMax,
    applicationName: 'larder-inventory',
    onWarning: (message) => logger.debug({ component: 'knex' }, message),
  });
  let relay: OutboxRelay | undefined;
  const deps: InventoryDeps = {
    db,
    clock,
    afterCommit: () => relay?.wake(),
    defaultReservationTtlMs: config.defaultReservationTtlMs,
  };

  const { connection } = connectNats(config.natsUrl, 'larder-inventory', logger);
  const relayReady = connection.then(async (nats: NatsConnection) => {
    await ensureStream(nats, INVENTORY_STREAM);
    relay = createOutboxRelay({ db, nats, logger, pollIntervalMs: config.outboxPollMs });
    relay.start();
    return relay;
  });
  relayReady.catch((error) => logger.error({ err: error }, 'outbox relay could not start'));

  const server = new GrpcServer({ logger, apiKeys: config.apiKeys, tls: config.tls }, [INVENTORY_SERVICE_NAME]);
  server.addService(InventoryServiceService, inventoryHandlers(deps), inventoryScopes);

  const health: Repeating = every(2_000, async () => {
    const status = (await isDatabaseReachable(db)) ? Serving.SERVING : Serving.NOT_SERVING;
    server.health.setAll(status);
  }, logger);
  const sweeper: Repeating = every(config.sweepIntervalMs, async () => {
    const expired = await expireReservations(deps);
    if (expired > 0) logger.info({ expired }, 'released expired reservations');
  }, logger);

  const port = await server.listen(config.grpcHost, config.grpcPort);
  await health.runNow();
  logger.info({ port, tls: Boolean(config.tls) }, 'inventory service listening');

  return {
    port,
    deps,
    server,
    relay: relayReady,
    async stop() {
      await health.stop();
      await server.shutdown(config.shutdownGraceMs);
      await sweeper.stop();
      await relay?.stop();
      // A connection still being attempted is closed whenever it arrives.
      void connection.then((nats) => nats.close()).catch(() => undefined);
      const nats = await Promise.race([connection, Promise.resolve(undefined)]);
      await nats?.drain().catch(() => undefined);
      await db.destroy();
    },
  };
}
