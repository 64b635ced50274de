import type { CommonConfig } from '#libs/config/common.js';
import { ConfigError, type Env } from '#libs/config/env.js';
import { createLogger, type Logger } from '#libs/logging/logger.js';
import { runUntilSignalled } from '#libs/process/run-until-signalled.js';
import { startTracing } from '#libs/telemetry/start-tracing.js';
import { readTracingConfig, type TracingConfig } from '#libs/telemetry/tracing-config.js';
import type { Stoppable } from './runtime.js';

export interface ServiceMain<C extends Pick<CommonConfig, 'logLevel'>> {
  /** Short service name: the prefix of a configuration error and the logger's service. */
  name: string;
  /** Reads and validates the configuration; a ConfigError names the variable at fault. */
  readConfig(env: Env): C;
  /**
   * Builds the service and starts serving (the composition root's start function).
   * It must import the service's modules itself (`await import('./app.js')`): they
   * load @grpc/grpc-js and pg, which tracing can patch only if it starts first.
   */
  start(config: C, logger: Logger): Promise<Stoppable>;
}

/**
 * A service process's entry point: configuration from the environment (a
 * ConfigError prints `<name>: invalid configuration: <message>` and exits 2,
 * before anything is started or logged), tracing if the OTEL_* variables ask
 * for it (libs/telemetry), a logger at the configured level, then serve until
 * SIGTERM/SIGINT (exit 0; buffered spans are exported first), or exit 1 if it
 * cannot start.
 */
export async function runServiceMain<C extends Pick<CommonConfig, 'logLevel'>>(
  service: ServiceMain<C>,
  env: Env = process.env,
): Promise<void> {
  let config: C;
  let tracingConfig: TracingConfig;
  try {
    config = service.readConfig(env);
    tracingConfig = readTracingConfig(env, service.name);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`${service.name}: invalid configuration: ${error.message}`);
    process.exit(2);
  }
  const tracing = await startTracing(tracingConfig);
  const logger = createLogger(service.name, config.logLevel, { traceIds: tracing.enabled });
  await runUntilSignalled(logger, async () => {
    const running = await service.start(config, logger);
    return {
      async stop() {
        await running.stop();
        await tracing.shutdown();
      },
    };
  });
}
