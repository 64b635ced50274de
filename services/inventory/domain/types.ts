/** The inventory's records as the domain sees them (no SQL, no protobuf). */
import type { Money } from '#libs/money/money.js';

export interface StockRecord {
  productId: string;
  available: number;
  reserved: number;
  sold: number;
  lowStockThreshold: number;
  updatedAt: Date;
}

/** Either the stock after the change, or how many units were available when it fell short. */
export type StockChange = { ok: true; stock: StockRecord } | { ok: false; available: number | undefined };

export interface ProductRecord {
  id: string;
  sku: string;
  name: string;
  description: string;
  price: Money;
  categoryIds: string[];
  lowStockThreshold: number;
  stock: StockRecord;
  version: number;
  createdAt: Date;
  updatedAt: Date;
  deletedAt?: Date;
}

/** A product as CreateProduct writes it (its stock row and categories are written beside it). */
export interface NewProduct {
  id: string;
  sku: string;
  name: string;
  description: string;
  price: Money;
  lowStockThreshold: number;
}

/** The fields UpdateProduct may change; an absent one keeps its value. */
export type ProductPatch = Partial<Pick<NewProduct, 'name' | 'description' | 'price' | 'lowStockThreshold'>>;

/** Which products ListProducts returns. */
export interface ProductFilter {
  categoryId?: string;
  nameContains?: string;
  includeDeleted: boolean;
}

export interface CategoryRecord {
  id: string;
  name: string;
  description: string;
  createdAt: Date;
  updatedAt: Date;
}

export type ReservationStatus = 'RESERVED' | 'COMMITTED' | 'RELEASED' | 'EXPIRED';

export interface ReservationItemRecord {
  productId: string;
  quantity: number;
  unitPrice: Money;
}

export interface ReservationRecord {
  orderId: string;
  status: ReservationStatus;
  items: ReservationItemRecord[];
  expiresAt: Date;
  releaseReason?: string;
  createdAt: Date;
  updatedAt: Date;
}

export type AdjustmentReason = 'RESTOCK' | 'DAMAGED' | 'EXPIRED' | 'LOST' | 'CORRECTION';

/** An adjustment's idempotency key as claimed: the request it belongs to and, once applied, the stock it left. */
export interface StoredAdjustment {
  idempotencyKey: string;
  productId: string;
  requestHash: string;
  result?: Pick<StockRecord, 'available' | 'reserved' | 'sold'>;
  createdAt: Date;
}

/** Why a stock row changed; the ledger's `kind`. */
export type MovementKind =
  | 'INITIAL'
  | 'ADJUSTMENT'
  | 'RESERVE'
  | 'COMMIT'
  | 'RELEASE'
  | 'EXPIRE'
  // Transfers (docs/transfers.md): out of the sender, delivered or lost on the way, into the receiver, cancelled back.
  | 'TRANSFER_OUT'
  | 'TRANSFER_DELIVERED'
  | 'TRANSFER_LOST'
  | 'TRANSFER_IN'
  | 'TRANSFER_CANCELLED';

export interface Movement {
  productId: string;
  kind: MovementKind;
  availableDelta: number;
  reservedDelta: number;
  soldDelta: number;
  /** Units in transit from this location; 0 when absent. */
  inTransitDelta?: number;
  /** The stock row's location; absent means the default location (the column's default). */
  locationId?: string;
  /** Order id, adjustment key or transfer id the movement belongs to. */
  reference?: string;
}

/** Injected time, so TTLs and expiry are testable without sleeping. */
