import { COMMON_RPC_ERRORS, rpcError, TOKEN_RPC_ERRORS, type RpcError } from '#libs/grpc/rpc-errors.js';

/** Returned by every RPC that names an order (orders.ts, watch-order.ts). */
export const orderNotFound = rpcError('NOT_FOUND', 'ORDER_NOT_FOUND', 'no order has this id');
/** A token naming another customer than its own (customer_id of another): carts and orders alike. */
export const customerMismatch = rpcError('PERMISSION_DENIED', 'CUSTOMER_MISMATCH', "a customer token names another customer's customer_id");

/** Every order-service RPC: the common errors, and those of customer tokens. */
export const ORDER_COMMON_RPC_ERRORS: readonly RpcError[] = [
  ...COMMON_RPC_ERRORS,
  ...TOKEN_RPC_ERRORS,
  rpcError('UNAUTHENTICATED', 'TOKEN_SUBJECT_INVALID', 'the token\'s "sub" is not a customer id (a UUID)'),
];
