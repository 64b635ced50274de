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

/** Why a stock row changed; the ledger's `kind`. */
export type MovementKind = 'INITIAL' | 'ADJUSTMENT' | 'RESERVE' | 'COMMIT' | 'RELEASE' | 'EXPIRE';

export interface Movement {
  productId: string;
  kind: MovementKind;
  availableDelta: number;
  reservedDelta: number;
  soldDelta: number;
  /** Order id or adjustment key the movement belongs to. */
  reference?: string;
}

/** Injected time, so TTLs and expiry are testable without sleeping. */
