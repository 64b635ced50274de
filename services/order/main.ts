import { ConfigError } from '#libs/config/env.js';
import { createLogger } from '#libs/logging/logger.js';
import { runUntilSignalled } from '#libs/process/run-until-signalled.js';
import { startOrder } from './app.js';
import { readOrderConfig } from './config.js';

/** Entry point of the order service: config from the environment, then serve until SIGTERM/SIGINT. */
let config;
try {
  config = readOrderConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`order: invalid configuration: ${error.message}`);
  process.exit(2);
}
const logger = createLogger('order', config.logLevel);
await runUntilSignalled(logger, () => startOrder(config, logger));
