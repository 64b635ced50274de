import type { InventoryServiceService } from '#libs/contracts/larder/inventory/v1/inventory_service.js';
import { rpcError, type RpcErrors } from '#libs/grpc/rpc-errors.js';

const productNotFound = rpcError('NOT_FOUND', 'PRODUCT_NOT_FOUND', 'no product has this id');
const categoryNotFound = rpcError('NOT_FOUND', 'CATEGORY_NOT_FOUND', 'no category has this id');
const unknownCategory = rpcError('INVALID_ARGUMENT', 'CATEGORY_NOT_FOUND', 'product.category_ids names a category that does not exist');
const categoryNameTaken = rpcError('ALREADY_EXISTS', 'CATEGORY_NAME_TAKEN', 'another category has this name');
const reservationNotFound = rpcError('NOT_FOUND', 'RESERVATION_NOT_FOUND', 'no reservation for this order id');
const illegalTransition = rpcError(
  'FAILED_PRECONDITION',
  'ILLEGAL_RESERVATION_TRANSITION',
  'the reservation is already settled the other way, or expired; ErrorInfo metadata holds its status',
);
const insufficientStock = rpcError(
  'FAILED_PRECONDITION',
  'INSUFFICIENT_STOCK',
  'fewer units available than asked; metadata holds product_id and available',
);
const keyReused = rpcError('ALREADY_EXISTS', 'IDEMPOTENCY_KEY_REUSED', 'the key (or order id) was used before with a different payload');

/** The errors each inventory RPC returns besides COMMON_RPC_ERRORS (for docs/api.md). */
export const inventoryRpcErrors: RpcErrors<typeof InventoryServiceService> = {
  createProduct: [rpcError('ALREADY_EXISTS', 'SKU_TAKEN', 'a product with this sku exists'), unknownCategory],
  getProduct: [productNotFound],
  listProducts: [],
  updateProduct: [productNotFound, rpcError('ABORTED', 'ETAG_MISMATCH', 'product.etag is not the current one'), unknownCategory],
  deleteProduct: [productNotFound],
  undeleteProduct: [productNotFound],
  createCategory: [categoryNameTaken],
  getCategory: [categoryNotFound],
  listCategories: [],
  updateCategory: [categoryNotFound, categoryNameTaken],
  deleteCategory: [
    categoryNotFound,
    rpcError('FAILED_PRECONDITION', 'CATEGORY_NOT_EMPTY', 'products are still in the category and force is not set'),
  ],
  adjustStock: [
    productNotFound,
    rpcError('FAILED_PRECONDITION', 'INSUFFICIENT_STOCK', 'the change would take on-hand below what is reserved'),
    keyReused,
  ],
  batchGetStockLevels: [productNotFound],
  reserveStock: [
    productNotFound,
    rpcError('FAILED_PRECONDITION', 'PRODUCT_DELETED', 'a product is deleted and cannot be reserved'),
    insufficientStock,
    keyReused,
  ],
  getReservation: [reservationNotFound],
  commitReservation: [reservationNotFound, illegalTransition],
  releaseReservation: [reservationNotFound, illegalTransition],
  extendReservation: [reservationNotFound, illegalTransition],
};
