import type { OrderStatus } from './types.js';

/**
 * The order state machine in one table (docs/design.md §3). Every status change goes
 * through `assertTransition`, so an illegal one is a bug caught here, not a
 * corrupted order.
 */
const NEXT: Record<OrderStatus, readonly OrderStatus[]> = {
  PENDING: ['AWAITING_STOCK', 'RESERVED', 'CANCELLED', 'FAILED'],
  AWAITING_STOCK: ['RESERVED', 'CANCELLED', 'FAILED'],
  RESERVED: ['CONFIRMED', 'CANCELLED'],
  CONFIRMED: ['SHIPPED', 'CANCELLED'],
  SHIPPED: ['DELIVERED'],
  DELIVERED: [],
  CANCELLED: [],
  FAILED: [],
};

export const TERMINAL: ReadonlySet<OrderStatus> = new Set(['DELIVERED', 'CANCELLED', 'FAILED']);

/** Statuses CancelOrder accepts: everything before it leaves the warehouse. */
export const CANCELLABLE: ReadonlySet<OrderStatus> = new Set(['PENDING', 'AWAITING_STOCK', 'RESERVED', 'CONFIRMED']);

export const canTransition = (from: OrderStatus, to: OrderStatus): boolean => NEXT[from].includes(to);

export function assertTransition(from: OrderStatus, to: OrderStatus): void {
  if (!canTransition(from, to)) throw new Error(`illegal order transition ${from} → ${to}`);
}

export const isTerminal = (status: OrderStatus): boolean => TERMINAL.has(status);
