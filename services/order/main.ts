import { runServiceMain } from '#libs/service/main.js';
import { startOrder } from './app.js';
import { readOrderConfig } from './config.js';

/** Entry point of the order service: config from the environment, then serve until SIGTERM/SIGINT. */
await runServiceMain({ name: 'order', readConfig: readOrderConfig, start: startOrder });
