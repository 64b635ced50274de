import type { Knex } from 'knex';
import type { NatsConnection } from 'nats';
import type { CommonConfig } from '#libs/config/common.js';
import { createDatabase, isDatabaseReachable } from '#libs/db/knex.js';
import type { InboxConsumerOptions } from '#libs/events/consumer.js';
import { connectNats } from '#libs/events/nats-connection.js';
import { createOutboxRelay, type OutboxBacklog, type OutboxRelay } from '#libs/events/relay.js';
import { ensureStream, StreamReplicasError, type StreamSpec } from '#libs/events/streams.js';
import { createSubjectConsumers } from '#libs/events/subject-consumers.js';
import type { TokenAuthenticator } from '#libs/grpc/auth.js';
import { Serving } from '#libs/grpc/health.js';
import { GrpcServer } from '#libs/grpc/server.js';
import type { Logger } from '#libs/logging/logger.js';
import { status as Code } from '@grpc/grpc-js';
import type { Server as HttpServer } from 'node:http';
import { AppError } from '#libs/errors/app-error.js';
import { ServiceMetrics } from '#libs/metrics/service-metrics.js';
import { crashPoints, type CrashPoints } from '#libs/process/crash-points.js';
import { every as repeatEvery, type Repeating } from '#libs/timers/every.js';
import { untilStarted } from './until-started.js';

export interface Stoppable {
  stop(): Promise<void>;
}

/** A NATS consumer whose counters the runtime exports. */
export interface ObservedConsumer extends Stoppable {
  name: string;
  stats(): { processed: number; duplicates: number; failures: number; deadLettered: number; redeliveries: number };
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
  /** End-user tokens the gRPC server accepts besides the API keys (order service, when a JWKS is configured). */
  tokens?: TokenAuthenticator;
}

/** An inbox consumer as a service declares it: the runtime supplies its pool, NATS and logger. */
export interface ConsumeOptions extends Omit<InboxConsumerOptions, 'db' | 'nats' | 'logger' | 'crash'> {
  /** The `component` of its log lines, e.g. 'order-events'. */
  component: string;
}

/**
 * What every Larder service process has: its database pool, a gRPC server
 * with health and reflection, a NATS connection made in the background (a
 * broker outage never stops serving), the outbox relay, a health monitor
 * (NOT_SERVING while the database does not answer) and an orderly stop:
 * NOT_SERVING → in-flight calls finish → workers and consumers stop → relay
 * publishes what is committed (up to OUTBOX_DRAIN_MS) and stops → NATS drains
 * → pool closes.
 *
 * A service declares what it has (services, metrics, every(), consume(),
 * addBackground()) and then calls serve().
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
  readonly metrics: ServiceMetrics;
  /** The process's crash points (LARDER_CRASH_AT, tests only); the relay and consumers get them, the service may too. */
  readonly crash: CrashPoints;
  private readonly rpcObservers: ((method: string, code: string, reason?: string) => void)[] = [];
  private readonly consumers: ObservedConsumer[] = [];
  private metricsServer?: HttpServer;
  /** Set by stop(): NATS readiness arriving after it starts nothing (no relay, no consumer left running). */
  private stopping = false;
  metricsPort = 0;

  constructor(private readonly options: RuntimeOptions) {
    const { config, logger } = options;
    this.metrics = new ServiceMetrics(options.name);
    this.crash = crashPoints(config.crashAt);
    this.db = createDatabase({
      url: config.databaseUrl,
      poolMax: config.dbPoolMax,
      preparedStatements: config.dbPreparedStatements,
      applicationName: options.name,
      onWarning: (message) => logger.debug({ component: 'knex' }, message),
    });
    this.server = new GrpcServer(
      {
        logger,
        apiKeys: config.apiKeys,
        tokens: options.tokens,
        tls: config.tls,
        observe: (method, code, durationMs, error) => {
          const name = Code[code] ?? String(code);
          this.metrics.observeRpc(method, name, durationMs);
          const reason = error instanceof AppError ? error.reason : undefined;
          for (const observer of this.rpcObservers) observer(method, name, reason);
        },
      },
      options.serviceNames,
    );
    this.registerMetrics();
    this.connection = connectNats(config.natsServers, options.name, logger);
    this.ready = this.connection.then(async (nats) => {
      await untilStarted(
        async () => {
          for (const stream of options.streams) await ensureStream(nats, stream, { replicas: config.natsStreamReplicas });
        },
        { what: 'the event streams', logger, stopping: () => this.stopping, fatal: (error) => error instanceof StreamReplicasError },
      );
      if (this.stopping) throw new Error('stopped before the event plumbing was ready');
      this.relay = createOutboxRelay({
        db: this.db,
        nats,
        logger,
        pollIntervalMs: options.outboxPollMs,
        drainMs: config.outboxDrainMs,
        crash: this.crash,
      });
      this.relay.start();
      return { nats, relay: this.relay };
    });
    this.ready.catch((error) => {
      // Stopped while connecting (a failed bind): nothing is wrong with the plumbing.
      if (this.stopping) logger.debug({ err: error }, 'event plumbing not started: stopping');
      else if (error instanceof StreamReplicasError) this.failConfiguration(error);
      else logger.error({ err: error }, 'event plumbing could not start');
    });
    this.health = repeatEvery(
      2_000,
      async () => {
        this.server.health.setAll((await isDatabaseReachable(this.db)) ? Serving.SERVING : Serving.NOT_SERVING);
      },
      logger,
    );
  }

  /**
   * The streams cannot have NATS_STREAM_REPLICAS copies. Serving on would pile
   * events up in the outbox with nothing to say why, and retrying cannot help:
   * stop and exit 1, as a start with a bad setting does.
   */
  private failConfiguration(error: StreamReplicasError): void {
    const { logger, config } = this.options;
    logger.fatal(
      { err: error, stream: error.stream, currentReplicas: error.current, wantedReplicas: error.wanted },
      `NATS_STREAM_REPLICAS=${config.natsStreamReplicas} cannot be applied: ${error.message}`,
    );
    void this.stop()
      .catch((stopError: unknown) => logger.warn({ err: stopError }, 'stopping after a stream replicas refusal failed'))
      .finally(() => process.exit(1));
  }

  private registerMetrics(): void {
    const m = this.metrics;
    // Both outbox gauges come from one backlog query per scrape (they are collected back to back).
    let backlog: { at: number; value: Promise<OutboxBacklog | undefined> } | undefined;
    const currentBacklog = () => {
      if (!backlog || Date.now() - backlog.at > 1_000)
        backlog = { at: Date.now(), value: this.relay?.backlog() ?? Promise.resolve(undefined) };
      return backlog.value;
    };
    m.gauge('larder_outbox_backlog', 'Outbox rows not yet published.', async () => (await currentBacklog())?.count ?? 0);
    m.gauge(
      'larder_outbox_oldest_unpublished_seconds',
      'Age of the oldest unpublished outbox row: the relay lag.',
      async () => ((await currentBacklog())?.oldestAgeMs ?? 0) / 1000,
    );
    const pool = () => (this.db.client as { pool?: { numUsed(): number; numFree(): number } }).pool;
    m.gauge('larder_db_pool_in_use', 'Database connections checked out of the pool.', () => pool()?.numUsed() ?? 0);
    m.gauge('larder_db_pool_free', 'Idle database connections in the pool.', () => pool()?.numFree() ?? 0);
    // Counters (rate() and increase() read them): totals each consumer keeps since start.
    const perConsumer = (pick: (s: ReturnType<ObservedConsumer['stats']>) => number) => () =>
      Object.fromEntries(this.consumers.map((c) => [c.name, pick(c.stats())]));
    m.counterFrom(
      'larder_consumer_processed_total',
      'Events applied by each consumer.',
      perConsumer((s) => s.processed),
      'consumer',
    );
    m.counterFrom(
      'larder_consumer_duplicates_total',
      'Redelivered events the inbox recognised and skipped.',
      perConsumer((s) => s.duplicates),
      'consumer',
    );
    m.counterFrom(
      'larder_consumer_redeliveries_total',
      'Deliveries with a delivery count above 1.',
      perConsumer((s) => s.redeliveries),
      'consumer',
    );
    m.counterFrom(
      'larder_consumer_dead_letters_total',
      'Events given up on and sent to the dead-letter subject.',
      perConsumer((s) => s.deadLettered),
      'consumer',
    );
  }

  /** Sees every finished RPC with its status name and, for expected errors, their reason. */
  onRpc(observer: (method: string, code: string, reason?: string) => void): void {
    this.rpcObservers.push(observer);
  }

  /** Wakes the outbox relay: a transaction with events just committed. */
  wakeRelay = (): void => this.relay?.wake();

  /** Background work stopped (in reverse order of adding) after the server drained. */
  addBackground(worker: Stoppable): void {
    this.background.push(worker);
  }

  /**
   * Runs `job` every `intervalMs` (never two runs at once; a failure is logged,
   * not thrown) until the runtime stops, with the rest of the background work.
   */
  every(intervalMs: number, job: () => Promise<void>): Repeating {
    const repeating = repeatEvery(intervalMs, job, this.options.logger);
    this.addBackground(repeating);
    return repeating;
  }

  /**
   * Declares an inbox consumer: once NATS is up, one durable per filter subject
   * (subject-consumers.ts) on this runtime's pool, logging as `component`.
   */
  consume(options: ConsumeOptions): void {
    const { component, ...consumer } = options;
    this.whenNatsReady(async (nats) => {
      const started = createSubjectConsumers({
        ...consumer,
        db: this.db,
        nats,
        logger: this.options.logger.child({ component }),
        crash: this.crash,
      });
      try {
        await started.start();
      } catch (error) {
        // Some of its durables may be running: stop them before the next attempt starts them all again.
        await started.stop().catch(() => undefined);
        throw error;
      }
      return started;
    });
  }

  /** Starts a consumer once NATS is up; its counters are exported and it is stopped with the rest. */
  whenNatsReady(start: (nats: NatsConnection) => Promise<ObservedConsumer>): void {
    void this.ready
      .then(async ({ nats }) => {
        const consumer = await untilStarted(() => start(nats), {
          what: 'a NATS consumer',
          logger: this.options.logger,
          stopping: () => this.stopping,
        });
        // stop() already ran (serve() failed while this was starting): nothing would stop it later.
        if (this.stopping) {
          await consumer.stop();
          return;
        }
        this.consumers.push(consumer);
        this.addBackground(consumer);
      })
      .catch((error) => {
        if (!this.stopping) this.options.logger.error({ err: error }, 'could not start a NATS consumer');
      });
  }

  /**
   * Listens (gRPC, then metrics) and reports health; returns the gRPC port. If
   * either cannot bind (port taken, bad TLS material), stops everything the
   * runtime started (pool, NATS, relay, background work) and rethrows.
   */
  async serve(): Promise<number> {
    try {
      return await this.listen();
    } catch (error) {
      await this.stop().catch((stopError: unknown) =>
        this.options.logger.warn({ err: stopError }, 'stopping after a failed start failed too'),
      );
      throw error;
    }
  }

  private async listen(): Promise<number> {
    const { config } = this.options;
    const port = await this.server.listen(config.grpcHost, config.grpcPort);
    const metrics = await this.metrics.serve(config.grpcHost, config.metricsPort);
    this.metricsServer = metrics.server;
    this.metricsPort = metrics.port;
    await this.health.runNow();
    this.options.logger.info({ port, metricsPort: metrics.port, tls: Boolean(config.tls) }, 'listening');
    return port;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.health.stop();
    await this.server.shutdown(this.options.config.shutdownGraceMs);
    for (const worker of [...this.background].reverse()) await worker.stop();
    await this.relay?.stop();
    // A connection still being attempted is closed whenever it arrives.
    void this.connection.then((nats) => nats.close()).catch(() => undefined);
    const nats = await Promise.race([this.connection, Promise.resolve(undefined)]);
    await nats?.drain().catch(() => undefined);
    await this.db.destroy();
    await new Promise((resolve) => (this.metricsServer ? this.metricsServer.close(resolve) : resolve(undefined)));
  }
}
