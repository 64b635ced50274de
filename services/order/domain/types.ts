/** The order service's records as the domain sees them (no SQL, no protobuf). */
import type { Money } from '#libs/money/money.js';

export type OrderStatus = 'PENDING' | 'AWAITING_STOCK' | 'RESERVED' | 'CONFIRMED' | 'SHIPPED' | 'DELIVERED' | 'CANCELLED' | 'FAILED';

export type PaymentStatus = 'NOT_STARTED' | 'PENDING' | 'CAPTURED' | 'DECLINED' | 'REFUNDED';

export interface ShippingAddress {
  recipient: string;
  line1: string;
  line2: string;
  city: string;
  postalCode: string;
  countryCode: string;
}

/** A point on the earth (WGS84): latitude -90 to 90, longitude -180 to 180. */
export interface LatLng {
  latitude: number;
  longitude: number;
}

/**
 * How an order reaches the customer, which decides where its stock is
 * reserved: delivered to an address (the locations that deliver there, the
 * nearest first) or picked up at one location (reserved there only).
 */
export type Fulfilment = { kind: 'delivery'; address: ShippingAddress; coordinates?: LatLng } | { kind: 'pickup'; locationId: string };

/** Where some of an order's units are reserved: one allocation line of its reservation. */
export interface AllocationRecord {
  productId: string;
  locationId: string;
  quantity: number;
}

export interface OrderItemRecord {
  productId: string;
  quantity: number;
  /** Captured by inventory at reservation; unset before. */
  unitPrice?: Money;
}

export interface OrderRecord {
  id: string;
  customerId: string;
  status: OrderStatus;
  items: OrderItemRecord[];
  total?: Money;
  paymentToken: string;
  /** Correlation id of the request that created the order. */
  correlationId?: string;
  paymentStatus: PaymentStatus;
  shippingAddress?: ShippingAddress;
  /** Unset for an order placed without one (reserved at any location). A delivery's address is shippingAddress. */
  fulfilment?: Fulfilment;
  /** Where its units are reserved, by product then location; undefined until reserved (and for orders reserved before locations). */
  allocations?: AllocationRecord[];
  attempts: number;
  paymentAttempts: number;
  lastError?: string;
  cancelReason?: string;
  cancelRequested: boolean;
  reservationExpired: boolean;
  idempotencyKey: string;
  requestHash: string;
  nextAttemptAt?: Date;
  version: number;
  createdAt: Date;
  updatedAt: Date;
  deletedAt?: Date;
}

export interface OrderEventRecord {
  orderId: string;
  sequence: number;
  fromStatus?: OrderStatus;
  toStatus: OrderStatus;
  reason: string;
  error?: string;
  correlationId?: string;
  createdAt: Date;
}

export interface CartItemRecord {
  productId: string;
  quantity: number;
}

export interface CartRecord {
  customerId: string;
  items: CartItemRecord[];
  /** How the customer wants the order (SetCartFulfilment); Checkout uses it when its request names none. */
  fulfilment?: Fulfilment;
  updatedAt?: Date;
}

/** What the cart rules check before a line changes. */
export interface CartLine {
  /** Distinct products in the cart. */
  lineCount: number;
  /** What the cart holds of the product; 0 when it has no line for it. */
  quantity: number;
}

/** Random numbers in [0, 1): injected so jitter and the payment simulator are testable. */
export type Random = () => number;
