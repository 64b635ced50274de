import { rpcError } from '#libs/grpc/rpc-errors.js';

/**
 * The ErrorInfo reasons several inventory RPCs return, for their declarations'
 * `errors` (a reason only one RPC returns is written in its declaration).
 */
export const productNotFound = rpcError('NOT_FOUND', 'PRODUCT_NOT_FOUND', 'no product has this id');
export const categoryNotFound = rpcError('NOT_FOUND', 'CATEGORY_NOT_FOUND', 'no category has this id');
export const unknownCategory = rpcError(
  'INVALID_ARGUMENT',
  'CATEGORY_NOT_FOUND',
  'product.category_ids names a category that does not exist',
);
export const categoryNameTaken = rpcError('ALREADY_EXISTS', 'CATEGORY_NAME_TAKEN', 'another category has this name');
export const reservationNotFound = rpcError('NOT_FOUND', 'RESERVATION_NOT_FOUND', 'no reservation for this order id');
export const illegalTransition = rpcError(
  'FAILED_PRECONDITION',
  'ILLEGAL_RESERVATION_TRANSITION',
  'the reservation is already settled the other way, or expired; ErrorInfo metadata holds its status',
);
export const keyReused = rpcError(
  'ALREADY_EXISTS',
  'IDEMPOTENCY_KEY_REUSED',
  'the key (or order id) was used before with a different payload',
);
export const locationNotFound = rpcError('NOT_FOUND', 'LOCATION_NOT_FOUND', 'no location has this id');
export const locationInactive = rpcError(
  'FAILED_PRECONDITION',
  'LOCATION_INACTIVE',
  'the location is inactive (no new reservations) or deleted; metadata holds location_id',
);
export const locationIsDefault = rpcError(
  'FAILED_PRECONDITION',
  'LOCATION_IS_DEFAULT',
  'the default location (calls without a location use it) cannot be deleted or deactivated',
);
