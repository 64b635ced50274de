/**
 * The order service's front door for operator scripts: the only module of this
 * service that scripts/ may import (.dependency-cruiser.cjs, rule
 * scripts-through-front-door). What a script needs of a running order service
 * goes through its gRPC API; what it needs of the code or the database (config
 * defaults, migrations, the API's policy tables, customer tokens, the
 * reconciler's reads) is here, at the level a script uses it, so the service's
 * layers can change without breaking scripts.
 */
import type { Env } from '#libs/config/env.js';
import type { TokenAuthenticator } from '#libs/grpc/auth.js';
import type { Db } from '#libs/db/types.js';
import { readOrderConfig } from './config.js';
import { readOrderAllocationsOf, readOrderItemsOf } from './data/reconciliation.js';
import { cancelRestockKey, cancelRestocksOf, CANCEL_RESTOCK_NOTE } from './domain/inventory-port.js';
import { customerTokensFor } from './transport/customer-token.js';

export { readOrderConfig, type OrderConfig } from './config.js';
export { orderMigrations } from './migrations/index.js';
/** The API's policy, for its reference (scripts/api-docs): the scope and the error reasons of each RPC. */
export { ORDER_COMMON_RPC_ERRORS } from './transport/rpc-errors.js';
export { cartRpcs } from './transport/carts.js';
export { orderRpcs } from './transport/orders.js';
export { CUSTOMER_SCOPES } from './transport/scopes.js';
/** The reconciler's read of orders (scripts/reconcile): one page in id order (keyset). */
export { readOrdersAfter, type OrderSnapshot } from './data/reconciliation.js';
/** The reconciler's read of where orders' units are reserved (their recorded allocation lines), by order id. */
export { readOrderAllocationsOf } from './data/reconciliation.js';
export type { OrderStatus } from './domain/types.js';

/**
 * The customer tokens an order service configured by `env` accepts, read the
 * way it reads them (app.ts): the customer and the customer scopes that count.
 * Undefined when `env` configures no tokens.
 */
export const customerTokenReader = (env: Env): TokenAuthenticator | undefined => customerTokensFor(readOrderConfig(env).tokens);

/** The AdjustStock the saga's cancel step sends to put one item of a cancelled, confirmed order back: its idempotency key and note. */
export const cancelRestockOf = (orderId: string, productId: string): { idempotencyKey: string; note: string } => ({
  idempotencyKey: cancelRestockKey(orderId, productId),
  note: CANCEL_RESTOCK_NOTE,
});

/**
 * One restock the saga's cancel step owes a cancelled, confirmed order: units
 * of a product, the location they go back to (none: the default one) and the
 * key its AdjustStock carries.
 */
export interface CancelRestockDue {
  productId: string;
  quantity: number;
  locationId?: string;
  idempotencyKey: string;
}

/**
 * For the reconciler: the restocks the saga's cancel step sends for these
 * orders, one per allocation line (per item for an order without
 * allocations), by order id. Which of them inventory applied is the
 * inventory's to say (its restocks by idempotency key).
 */
export async function cancelRestocksDueOf(db: Db, orderIds: readonly string[]): Promise<Map<string, CancelRestockDue[]>> {
  const [items, allocations] = await Promise.all([readOrderItemsOf(db, orderIds), readOrderAllocationsOf(db, orderIds)]);
  return new Map([...items].map(([orderId, list]) => [orderId, cancelRestocksOf(orderId, list, allocations.get(orderId))]));
}
