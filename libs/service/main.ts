import type { CommonConfig } from '#libs/config/common.js';
import { ConfigError, type Env } from '#libs/config/env.js';
import { createLogger, type Logger } from '#libs/logging/logger.js';
import { runUntilSignalled } from '#libs/process/run-until-signalled.js';
import type { Stoppable } from './runtime.js';

export interface ServiceMain<C extends Pick<CommonConfig, 'logLevel'>> {
  /** Short service name: the prefix of a configuration error and the logger's service. */
  name: string;
  /** Reads and validates the configuration; a ConfigError names the variable at fault. */
  readConfig(env: Env): C;
  /** Builds the service and starts serving (the composition root's start function). */
  start(config: C, logger: Logger): Promise<Stoppable>;
}

/**
 * A service process's entry point: configuration from the environment (a
 * ConfigError prints `<name>: invalid configuration: <message>` and exits 2,
 * before anything is started or logged), a logger at the configured level,
 * then serve until SIGTERM/SIGINT (exit 0), or exit 1 if it cannot start.
 */
export async function runServiceMain<C extends Pick<CommonConfig, 'logLevel'>>(
  service: ServiceMain<C>,
  env: Env = process.env,
): Promise<void> {
  let config: C;
  try {
    config = service.readConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`${service.name}: invalid configuration: ${error.message}`);
    process.exit(2);
  }
  const logger = createLogger(service.name, config.logLevel);
  await runUntilSignalled(logger, () => service.start(config, logger));
}
