import { runServiceMain } from '#libs/service/main.js';
import { startInventory } from './app.js';
import { readInventoryConfig } from './config.js';

/** Entry point of the inventory service: config from the environment, then serve until SIGTERM/SIGINT. */
await runServiceMain({ name: 'inventory', readConfig: readInventoryConfig, start: startInventory });
