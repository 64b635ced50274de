/**
 * The reservation vocabulary of the coalesced reserve and settle statements
 * (reserve_stock_batch, settleBatch): what a use case hands data/ and what it
 * gets back. Declared here so the types flow domain → data, never back.
 */
import type { OutboxEvent } from '#libs/events/outbox.js';
import type { Money } from '#libs/money/money.js';
import type { ReservationRecord } from './types.js';

/** A reservation as stored: the record plus the hash of the request that made it (a repeat must match it). */
export interface StoredReservation extends ReservationRecord {
  requestHash: string;
}

/** One ReserveStock request as reserve_stock_batch takes it (services/inventory/data/sql/reserve_stock_batch.sql). */
export interface BatchMember {
  orderId: string;
  requestHash: string;
  now: Date;
  expiresAt: Date;
  /** Sorted by product id. */
  items: readonly { productId: string; quantity: number }[];
  /** Its inventory.reservation.reserved event, split where the database appends the priced items. */
  event: ReservedEventParts;
  /** Where a StockLow event goes if this reservation crosses a product's threshold. */
  stockLow: { subject: string; type: string };
}

/** The reserved event, and its two protobuf fields: metadata, and the reservation without items. */
export interface ReservedEventParts {
  event: OutboxEvent;
  metadata: Uint8Array;
  reservation: Uint8Array;
}

/** What the batch decided for one member. */
export type BatchVerdict =
  | { kind: 'reserved'; unitPrices: Money[] }
  | { kind: 'replay'; reservation: StoredReservation }
  | { kind: 'reused' }
  | { kind: 'missing'; productId: string }
  | { kind: 'deleted'; productId: string }
  | { kind: 'short'; productId: string; requested: number; available: number };

/** How a settled reservation's units move: to sold (commit) or back to available (release, expiry). */
export type SettledStatus = 'COMMITTED' | 'RELEASED' | 'EXPIRED';

/** One reservation to settle: as it will be (status, reason), its event, and when. */
export interface SettlementMember {
  reservation: ReservationRecord;
  status: SettledStatus;
  event: OutboxEvent;
  now: Date;
}
