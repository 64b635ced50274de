import { runServiceMain } from '#libs/service/main.js';
import { readOrderConfig } from './config.js';

/**
 * Entry point of the order service: config from the environment, then serve until SIGTERM/SIGINT.
 * The app is imported inside start, after tracing has started (libs/telemetry/start-tracing.ts):
 * a static import here would load @grpc/grpc-js and pg before their instrumentations hook them.
 */
await runServiceMain({
  name: 'order',
  readConfig: readOrderConfig,
  start: async (config, logger) => (await import('./app.js')).startOrder(config, logger),
});
