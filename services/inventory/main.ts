import { runServiceMain } from '#libs/service/main.js';
import { readInventoryConfig } from './config.js';

/**
 * Entry point of the inventory service: config from the environment, then serve until SIGTERM/SIGINT.
 * The app is imported inside start, after tracing has started (libs/telemetry/start-tracing.ts):
 * a static import here would load @grpc/grpc-js and pg before their instrumentations hook them.
 */
await runServiceMain({
  name: 'inventory',
  readConfig: readInventoryConfig,
  start: async (config, logger) => (await import('./app.js')).startInventory(config, logger),
});
