/** The inventory's records as the domain sees them (no SQL, no protobuf). */
import type { Money } from '#libs/money/money.js';

/**
 * Stock of a product at one location, or its totals over its locations
 * (locationId '' and the per-location records in `locations`).
 * docs/design.md §8: available is on hand and unreserved, safety stock included;
 * availableToSell (what a reservation can take) is available − safetyStock, never
 * below zero, per location (a total sums the locations' figures).
 */
export interface StockRecord {
  productId: string;
  locationId: string;
  available: number;
  reserved: number;
  sold: number;
  safetyStock: number;
  availableToSell: number;
  inTransit: number;
  /** The threshold in force: the location's override, else the product's (for totals, the product's). */
  lowStockThreshold: number;
  updatedAt: Date;
  /** For totals: each location's stock, by location code. */
  locations?: StockRecord[];
}

/** Which stock BatchGetStockLevels reads: one location's, or totals over some locations (all when unset). */
export type StockScope = { locationId: string } | { locationIds?: readonly string[] };

/** A location's settings for one product (UpdateStockSettings); an absent field keeps its value. */
export interface StockSettingsPatch {
  safetyStock?: number;
  /** null: the product's threshold again. */
  lowStockThreshold?: number | null;
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

/** Where some of a reservation's units are held (docs/design.md §8). */
export interface AllocationLineRecord {
  productId: string;
  locationId: string;
  quantity: number;
}

export interface ReservationRecord {
  orderId: string;
  status: ReservationStatus;
  items: ReservationItemRecord[];
  /** Sorted by product id, then location id. */
  allocations: AllocationLineRecord[];
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
  locationId: string;
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
  | 'TRANSFER_OUT'
  | 'TRANSFER_DELIVERED'
  | 'TRANSFER_LOST'
  | 'TRANSFER_IN'
  | 'TRANSFER_CANCELLED';

export interface Movement {
  productId: string;
  locationId: string;
  kind: MovementKind;
  availableDelta: number;
  reservedDelta: number;
  soldDelta: number;
  /** Units sent by transfers and not yet received (the sender's); 0 when absent. */
  inTransitDelta?: number;
  /** Order id, adjustment key or transfer id the movement belongs to. */
  reference?: string;
}

/** Injected time, so TTLs and expiry are testable without sleeping. */
