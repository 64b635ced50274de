/**
 * The transfer vocabulary (docs/transfers.md): records the use cases return and
 * what they hand data/. Declared here so the types flow domain → data, never back.
 */
import type { AdjustmentReason } from './types.js';

export type TransferStatus = 'IN_TRANSIT' | 'RECEIVED' | 'CANCELLED';

/** Why units went missing on the way: the write-off reasons of AdjustStock. */
export type LossReason = Extract<AdjustmentReason, 'DAMAGED' | 'EXPIRED' | 'LOST'>;

/** One product and quantity, as a request names it. */
export interface TransferItem {
  productId: string;
  quantity: number;
}

export interface TransferLineRecord {
  productId: string;
  /** Units sent. */
  quantity: number;
  /** Units that arrived; set on receipt. */
  receivedQuantity?: number;
}

export interface TransferRecord {
  id: string;
  fromLocationId: string;
  toLocationId: string;
  status: TransferStatus;
  /** Sorted by product id. */
  lines: TransferLineRecord[];
  idempotencyKey: string;
  note: string;
  lossReason?: LossReason;
  cancelReason?: string;
  createdAt: Date;
  updatedAt: Date;
}

/** A transfer as stored: the record plus the fingerprints a repeat must match. */
export interface StoredTransfer extends TransferRecord {
  requestHash: string;
  receiptHash?: string;
}

/** A product as a transfer sees it: it exists; a deleted one may still be moved (its units are physical). */
export interface TransferProduct {
  id: string;
  deleted: boolean;
}

/** Identifies one stock row. */
export interface StockKey {
  productId: string;
  locationId: string;
}

/** A change of one stock row's counters (conditional: it never takes a counter below zero). */
export interface StockDelta extends StockKey {
  availableDelta: number;
  inTransitDelta: number;
}
