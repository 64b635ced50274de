/**
 * `npm run docs:api`: writes docs/api.md, the API reference, from the descriptor
 * set buf builds (with the .proto comments) and the services' RPC declarations
 * (scope and errors of each). `--check` writes nothing and exits 1 when docs/api.md is stale, as
 * check:gen does for the generated code.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { COMMON_RPC_ERRORS } from '#libs/grpc/rpc-errors.js';
import { DESCRIPTOR_SET_PATH } from '#libs/grpc/reflection.js';
import { INVENTORY_EVENTS, ORDER_EVENTS } from '#libs/events/catalog.js';
import { INVENTORY_STREAM, ORDERS_STREAM } from '#libs/events/streams.js';
import { errorsOf, scopesOf } from '#libs/grpc/rpc-table.js';
import { inventoryRpcs } from '../services/inventory/operator.js';
import { cartRpcs, ORDER_COMMON_RPC_ERRORS, orderRpcs } from '../services/order/operator.js';
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
    'larder.inventory.v1.InventoryService': { scopes: scopesOf(inventoryRpcs), errors: errorsOf(inventoryRpcs), common: COMMON_RPC_ERRORS },
    'larder.order.v1.CartService': { scopes: scopesOf(cartRpcs), errors: errorsOf(cartRpcs), common: ORDER_COMMON_RPC_ERRORS },
    'larder.order.v1.OrderService': { scopes: scopesOf(orderRpcs), errors: errorsOf(orderRpcs), common: ORDER_COMMON_RPC_ERRORS },
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
