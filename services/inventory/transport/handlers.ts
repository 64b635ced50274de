import type { InventoryServiceService } from '#libs/contracts/larder/inventory/v1/inventory_service.js';
import type { Handlers } from '#libs/grpc/server.js';
import type { InventoryDeps } from '../domain/deps.js';
import { categoryHandlers } from './categories.js';
import { productHandlers } from './products.js';
import { reservationHandlers } from './reservations.js';
import { stockHandlers } from './stock.js';

/** Every InventoryService RPC, wired to its handler. */
export const inventoryHandlers = (deps: InventoryDeps): Handlers<typeof InventoryServiceService> => ({
  ...productHandlers(deps),
  ...categoryHandlers(deps),
  ...stockHandlers(deps),
  ...reservationHandlers(deps),
});
