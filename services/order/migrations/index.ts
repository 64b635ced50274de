import type { Migration } from '#libs/db/migrate.js';
import { cartsAndOrders } from './001-carts-and-orders.js';
import { outboxTraceContext } from './002-outbox-trace-context.js';
import { fulfilmentAndAllocations } from './003-fulfilment-and-allocations.js';

/** The order service's migrations, oldest first. Append only. */
export const orderMigrations: readonly Migration[] = [cartsAndOrders, outboxTraceContext, fulfilmentAndAllocations];
