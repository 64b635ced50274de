import type { InventoryServiceService } from '#libs/contracts/larder/inventory/v1/inventory_service.js';
import type { AreaRpcs, RpcTable } from '#libs/grpc/rpc-table.js';
import type { InventoryDeps } from '../domain/deps.js';

/**
 * API-key scopes of the inventory service: a storefront key (catalog.read, reservations) cannot adjust stock;
 * locations.write creates, changes and deletes locations (reading them is catalog.read).
 */
export const INVENTORY_SCOPES = ['catalog.read', 'catalog.write', 'locations.write', 'stock.write', 'reservations'] as const;
export type InventoryScope = (typeof INVENTORY_SCOPES)[number];

/** Every InventoryService RPC declared: scope, errors, handler (transport/rpcs.ts). */
export type InventoryRpcTable = RpcTable<typeof InventoryServiceService, InventoryDeps, InventoryScope>;
/** The RPCs an area file (products.ts, stock.ts, …) declares. */
export type InventoryRpcs = AreaRpcs<typeof InventoryServiceService, InventoryDeps, InventoryScope>;
