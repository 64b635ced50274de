import { ConfigError } from '#libs/config/env.js';
import { createLogger } from '#libs/logging/logger.js';
import { runUntilSignalled } from '#libs/process/run-until-signalled.js';
import { startInventory } from './app.js';
import { readInventoryConfig } from './config.js';

/** Entry point of the inventory service: config from the environment, then serve until SIGTERM/SIGINT. */
let config;
try {
  config = readInventoryConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`inventory: invalid configuration: ${error.message}`);
  process.exit(2);
}
const logger = createLogger('inventory', config.logLevel);
await runUntilSignalled(logger, () => startInventory(config, logger));
