import type { Money } from '#libs/money/money.js';

/**
 * What the order service needs from inventory, as values rather than gRPC
 * errors. The adapter (inventory/grpc-client.ts) maps status codes onto these.
 */
export type ReserveOutcome =
  | { kind: 'reserved'; items: { productId: string; quantity: number; unitPrice: Money }[]; expiresAt?: Date }
  | { kind: 'insufficient'; productId: string; available: number; message: string }
  /** Can never succeed: unknown or deleted product, key clash. */
  | { kind: 'rejected'; message: string }
  /** The order's reservation exists but already ended (expired or released): it cannot be used again. */
  | { kind: 'gone'; status: string; message: string }
  /** Inventory unreachable, timed out, or busy: try again later. */
  | { kind: 'unavailable'; message: string };

export type SettleOutcome =
  | { kind: 'done' }
  /** The reservation is not RESERVED any more (expired, released, committed): status says which. */
  | { kind: 'gone'; status: string; message: string }
  | { kind: 'notFound' }
  | { kind: 'unavailable'; message: string };

export type AvailabilityOutcome = { kind: 'found'; available: number } | { kind: 'notFound' } | { kind: 'unavailable'; message: string };

/**
 * The idempotency key of the restock that puts one product of a cancelled,
 * already confirmed order back on the shelf: the saga's cancel step sends it,
 * and the reconciler (scripts/reconcile) finds, or repeats, that same restock by it.
 */
export const cancelRestockKey = (orderId: string, productId: string): string => `order-cancel-${orderId}-${productId}`;

/** The note of that restock (not part of its idempotency, but the ledger reads better with one wording). */
export const CANCEL_RESTOCK_NOTE = 'returned by a cancelled order';

export interface CallMeta {
  correlationId?: string;
}

export interface InventoryPort {
  reserve(orderId: string, items: { productId: string; quantity: number }[], ttlMs: number, meta: CallMeta): Promise<ReserveOutcome>;
  extend(orderId: string, ttlMs: number, meta: CallMeta): Promise<SettleOutcome>;
  commit(orderId: string, meta: CallMeta): Promise<SettleOutcome>;
  release(orderId: string, reason: string, meta: CallMeta): Promise<SettleOutcome>;
  /** Puts units of a cancelled, already committed order back on the shelf (idempotent on key). */
  restock(productId: string, quantity: number, idempotencyKey: string, meta: CallMeta): Promise<SettleOutcome>;
  /** Units available now, for the cart's soft check; notFound for unknown or deleted products. */
  availability(productId: string, meta: CallMeta): Promise<AvailabilityOutcome>;
}
