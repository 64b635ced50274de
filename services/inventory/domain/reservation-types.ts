/**
 * The reservation vocabulary of the coalesced reserve and settle statements
 * (reserve_stock_batch, settleBatch): what a use case hands data/ and what it
 * gets back. Declared here so the types flow domain → data, never back.
 */
import type { OutboxEvent } from '#libs/events/outbox.js';
import type { Money } from '#libs/money/money.js';
import type { AllocationLineRecord, ReservationRecord } from './types.js';

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
  /** Location ids in the order routing tries them (docs/design.md §8); one when pinned. */
  candidates: readonly string[];
  /** SPLIT_ALLOWED: the items may come from several locations. */
  split: boolean;
  /** One location was named: refused if it is inactive, instead of passed over. */
  pinned: boolean;
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

/** One item of a member no allocation could fill: the best a location (single) or all candidates (split) had. */
export interface ShortLine {
  productId: string;
  requested: number;
  available: number;
}

/** What the batch decided for one member. */
export type BatchVerdict =
  | { kind: 'reserved'; unitPrices: Money[]; allocations: AllocationLineRecord[] }
  | { kind: 'replay'; reservation: StoredReservation }
  | { kind: 'reused' }
  | { kind: 'missing'; productId: string }
  | { kind: 'deleted'; productId: string }
  | { kind: 'inactive'; locationId: string }
  | ({ kind: 'short'; lines: ShortLine[] } & ShortLine);

/** How a settled reservation's units move: to sold (commit) or back to available (release, expiry). */
export type SettledStatus = 'COMMITTED' | 'RELEASED' | 'EXPIRED';

/** One reservation to settle: as it will be (status, reason), its event, and when. */
export interface SettlementMember {
  reservation: ReservationRecord;
  status: SettledStatus;
  event: OutboxEvent;
  now: Date;
}
