import { categoryRpcs } from './categories.js';
import { locationRpcs } from './locations.js';
import { productRpcs } from './products.js';
import { reservationRpcs } from './reservations.js';
import type { InventoryRpcTable } from './scopes.js';
import { stockRpcs } from './stock.js';
import { transferRpcs } from './transfers.js';

/**
 * Every InventoryService RPC, from the areas' declarations. Typed against the
 * generated service, so `tsc` fails here while a method has no declaration; a
 * new area needs a line.
 */
export const inventoryRpcs: InventoryRpcTable = {
  ...productRpcs,
  ...categoryRpcs,
  ...locationRpcs,
  ...stockRpcs,
  ...reservationRpcs,
  ...transferRpcs,
};
