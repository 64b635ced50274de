/**
 * The vocabulary of an order's writes: the new order a Checkout claims, the
 * lease a saga step holds, the patch a change applies and the log entry it
 * leaves. The domain and the saga build these and data/ writes them, so they
 * are declared here and the types flow domain → data, never back.
 */
import type { OutboxEvent } from '#libs/events/outbox.js';
import type { Money } from '#libs/money/money.js';
import type { AllocationRecord, Fulfilment, OrderEventRecord, OrderRecord, OrderStatus, PaymentStatus, ShippingAddress } from './types.js';

export interface NewOrder {
  id: string;
  customerId: string;
  idempotencyKey: string;
  requestHash: string;
  paymentToken: string;
  shippingAddress?: ShippingAddress;
  fulfilment?: Fulfilment;
  correlationId?: string;
}

/** A new order's row, claimed for the placing request's own step (its lease) and due after `dueAt` otherwise. */
export interface OrderClaim {
  order: NewOrder;
  now: Date;
  dueAt: Date;
  /** Held by the placing request from the start (its inline step); none: due at dueAt for any worker. */
  lease?: { token: string; until: Date };
}

/** A claimed order: the lease token guards every write of the step that holds it. */
export interface ClaimedOrder {
  order: OrderRecord;
  leaseToken: string;
}

export interface OrderPatch {
  status?: OrderStatus;
  paymentStatus?: PaymentStatus;
  attempts?: number;
  paymentAttempts?: number;
  lastError?: string | null;
  cancelReason?: string | null;
  cancelRequested?: boolean;
  reservationExpired?: boolean;
  /** null: nothing to do until something external happens. */
  nextAttemptAt?: Date | null;
  shippingAddress?: ShippingAddress | null;
  deletedAt?: Date | null;
  /** A cancellation or expiry was raised now (makes the order due despite any backoff). */
  flaggedAt?: Date;
  /** The order's total, once inventory priced its items. */
  total?: Money;
  /** Where inventory reserved the units (its allocation lines), once reserved. */
  allocations?: readonly AllocationRecord[];
  /** The unit prices inventory captured at reservation, per product. */
  itemPrices?: readonly ItemPrice[];
  /** Drop the lease (end of a step). */
  releaseLease?: boolean;
}

export interface ItemPrice {
  productId: string;
  unitPrice: Money;
}

/** Where a write may land: only under the step's lease, or only on the version the caller read. */
export type WriteGuard = { leaseToken: string } | { version: number } | 'none';

/** A status change's order-log entry and its event, written with the change. */
export interface LoggedChange {
  entry: Omit<OrderEventRecord, 'sequence'>;
  event: OutboxEvent;
}
