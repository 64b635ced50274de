/**
 * `npm run docs:api`: writes docs/api.md, the API reference, from the descriptor
 * set buf builds (with the .proto comments) and the services' scope and error
 * tables. `--check` writes nothing and exits 1 when docs/api.md is stale, as
 * check:gen does for the generated code.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { COMMON_RPC_ERRORS } from '#libs/grpc/rpc-errors.js';
import { DESCRIPTOR_SET_PATH } from '#libs/grpc/reflection.js';
import { INVENTORY_EVENTS, ORDER_EVENTS } from '#libs/events/catalog.js';
import { INVENTORY_STREAM, ORDERS_STREAM } from '#libs/events/streams.js';
import { inventoryRpcErrors, inventoryScopes } from '../services/inventory/operator.js';
import { cartRpcErrors, cartScopes, ORDER_COMMON_RPC_ERRORS, orderRpcErrors, orderScopes } from '../services/order/operator.js';
import { describeApi } from './api-docs/descriptors.js';
import { renderApiReference, type EventEntry } from './api-docs/render.js';

const OUTPUT = new URL('../docs/api.md', import.meta.url);

const events: EventEntry[] = [
  ...Object.values(INVENTORY_EVENTS).map((e) => ({ subject: e.subject, type: e.type, stream: INVENTORY_STREAM.name })),
  ...Object.values(ORDER_EVENTS).map((e) => ({ subject: e.subject, type: e.type, stream: ORDERS_STREAM.name })),
];

const markdown = renderApiReference(
  describeApi(DESCRIPTOR_SET_PATH, 'larder/'),
  {
    'larder.inventory.v1.InventoryService': { scopes: inventoryScopes, errors: inventoryRpcErrors, common: COMMON_RPC_ERRORS },
    'larder.order.v1.CartService': { scopes: cartScopes, errors: cartRpcErrors, common: ORDER_COMMON_RPC_ERRORS },
    'larder.order.v1.OrderService': { scopes: orderScopes, errors: orderRpcErrors, common: ORDER_COMMON_RPC_ERRORS },
  },
  events,
);

if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(OUTPUT, 'utf8');
  } catch {
    // A missing file is stale too.
  }
  if (current !== markdown) {
    console.error('docs/api.md is stale: run `npm run docs:api` and commit it');
    process.exit(1);
  }
  console.log('docs/api.md is current');
} else {
  writeFileSync(OUTPUT, markdown);
  console.log(`wrote docs/api.md (${markdown.length} bytes)`);
}
