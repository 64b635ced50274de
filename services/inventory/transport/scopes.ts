import type { InventoryServiceService } from '#libs/contracts/larder/inventory/v1/inventory_service.js';
import type { Scopes } from '#libs/grpc/server.js';

/** API-key scopes of the inventory service. */
export const INVENTORY_SCOPES = ['catalog.read', 'catalog.write', 'stock.write', 'reservations'] as const;

/** Which scope each RPC needs: a storefront key (catalog.read, reservations) cannot adjust stock. */
export const inventoryScopes: Scopes<typeof InventoryServiceService> = {
  createProduct: 'catalog.write',
  getProduct: 'catalog.read',
  listProducts: 'catalog.read',
  updateProduct: 'catalog.write',
  deleteProduct: 'catalog.write',
  undeleteProduct: 'catalog.write',
  createCategory: 'catalog.write',
  getCategory: 'catalog.read',
  listCategories: 'catalog.read',
  updateCategory: 'catalog.write',
  deleteCategory: 'catalog.write',
  adjustStock: 'stock.write',
  batchGetStockLevels: 'catalog.read',
  reserveStock: 'reservations',
  getReservation: 'reservations',
  commitReservation: 'reservations',
  releaseReservation: 'reservations',
  extendReservation: 'reservations',
};
