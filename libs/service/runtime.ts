import type { Knex } from 'knex';
import type { NatsConnection } from 'nats';
import type { CommonConfig } from '../config/common.js';
import { createDatabase, isDatabaseReachable } from '../db/knex.js';
import { connectNats } from '../events/nats-connection.js';
import { createOutboxRelay, type OutboxRelay } from '../events/relay.js';
import { ensureStream, type StreamSpec } from '../events/streams.js';
import { Serving } from '../grpc/health.js';
import { GrpcServer } from '../grpc/server.js';
import type { Logger } from '../logging/logger.js';
import { every } from '../timers/every.js';

export interface Stoppable {
  stop(): Promise<void>;
}

export interface RuntimeOptions {
  /** Process name, e.g. larder-inventory (pg application_name, NATS client name). */
  name: string;
  config: CommonConfig;
  logger: Logger;
  /** Fully-qualified gRPC services this process serves (for health). */
  serviceNames: readonly string[];
  /** Streams to create or update once NATS is up (ours and the ones we consume). */
  streams: readonly StreamSpec[];
  outboxPollMs: number;
}

/**
 * What every Larder service process has: its database pool, a gRPC server
 * with health and reflection, a NATS connection made in the background (a
 * broker outage never stops serving), the outbox relay, a health monitor
 * (NOT_SERVING while the database does not answer) and an orderly stop:
 * NOT_SERVING → in-flight calls finish → workers and consumers stop → relay
 * stops → NATS drains → pool closes.
 */
export class ServiceRuntime {
  readonly db: Knex;
  readonly server: GrpcServer;
  /** Resolves once NATS is connected, the streams exist and the relay runs. */
  readonly ready: Promise<{ nats: NatsConnection; relay: OutboxRelay }>;
  private relay?: OutboxRelay;
  private readonly connection: Promise<NatsConnection>;
  private readonly background: Stoppable[] = [];
  private readonly health: Stoppable & { runNow(): Promise<void> };

  constructor(private readonly options: RuntimeOptions) {
    const { config, logger } = options;
    this.db = createDatabase({
      url: config.databaseUrl,
      poolMax: config.dbPoolMax,
      applicationName: options.name,
      onWarning: (message) => logger.debug({ component: 'knex' }, message),
    });
    this.server = new GrpcServer({ logger, apiKeys: config.apiKeys, tls: config.tls }, options.serviceNames);
    this.connection = connectNats(config.natsUrl, options.name, logger).connection;
    this.ready = this.connection.then(async (nats) => {
      for (const stream of options.streams) await ensureStream(nats, stream);
      this.relay = createOutboxRelay({ db: this.db, nats, logger, pollIntervalMs: options.outboxPollMs });
      this.relay.start();
      return { nats, relay: this.relay };
    });
    this.ready.catch((error) => logger.error({ err: error }, 'event plumbing could not start'));
    this.health = every(
      2_000,
      async () => {
        this.server.health.setAll((await isDatabaseReachable(this.db)) ? Serving.SERVING : Serving.NOT_SERVING);
      },
      logger,
    );
  }

  /** Wakes the outbox relay: a transaction with events just committed. */
  wakeRelay = (): void => this.relay?.wake();

  /** Background work stopped (in reverse order of adding) after the server drained. */
  addBackground(worker: Stoppable): void {
    this.background.push(worker);
  }

  /** Starts something that needs NATS (a consumer) once it is up; it is stopped with the rest. */
  whenNatsReady(start: (nats: NatsConnection) => Promise<Stoppable>): void {
    void this.ready
      .then(async ({ nats }) => this.addBackground(await start(nats)))
      .catch((error) => this.options.logger.error({ err: error }, 'could not start a NATS consumer'));
  }

  async listen(): Promise<number> {
    const port = await this.server.listen(this.options.config.grpcHost, this.options.config.grpcPort);
    await this.health.runNow();
    this.options.logger.info({ port, tls: Boolean(this.options.config.tls) }, 'listening');
    return port;
  }

  async stop(): Promise<void> {
    await this.health.stop();
    await this.server.shutdown(this.options.config.shutdownGraceMs);
    for (const worker of [...this.background].reverse()) await worker.stop();
    await this.relay?.stop();
    // A connection still being attempted is closed whenever it arrives.
    void this.connection.then((nats) => nats.close()).catch(() => undefined);
    const nats = await Promise.race([this.connection, Promise.resolve(undefined)]);
    await nats?.drain().catch(() => undefined);
    await this.db.destroy();
  }
}
