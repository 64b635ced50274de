import type { OutboxEvent } from '#libs/events/outbox.js';
import type { LocationRecord } from './location-types.js';
import type { ReservedEventParts } from './reservation-types.js';
import type { TransferRecord } from './transfer-types.js';
import type { AdjustmentReason, CategoryRecord, ProductRecord, ReservationRecord, StockRecord } from './types.js';

/** When and on whose behalf a fact happened: every event's metadata. */
export interface EventContext {
  correlationId?: string;
  now: Date;
}

/**
 * The inventory's facts as outbox rows. A port: the domain says which fact, and
 * contract/events.ts (wired in app.ts) encodes it as the protobuf event its
 * subject carries, so no use case imports generated code.
 */
export interface InventoryEvents {
  productCreated(ctx: EventContext, product: ProductRecord): OutboxEvent;
  productUpdated(ctx: EventContext, product: ProductRecord, changedFields: string[]): OutboxEvent;
  productDeleted(ctx: EventContext, product: ProductRecord): OutboxEvent;
  productUndeleted(ctx: EventContext, product: ProductRecord): OutboxEvent;
  locationCreated(ctx: EventContext, location: LocationRecord): OutboxEvent;
  /** changedFields: the update mask's paths. */
  locationUpdated(ctx: EventContext, location: LocationRecord, changedFields: string[]): OutboxEvent;
  locationDeleted(ctx: EventContext, location: LocationRecord): OutboxEvent;
  categoryCreated(ctx: EventContext, category: CategoryRecord): OutboxEvent;
  categoryUpdated(ctx: EventContext, category: CategoryRecord, changedFields: string[]): OutboxEvent;
  /** With how many product memberships the delete removed (DeleteCategory with force). */
  categoryDeleted(ctx: EventContext, category: CategoryRecord, removedMemberships: number): OutboxEvent;
  /** StockAdjusted, plus StockReplenished when units were added. */
  stockAdjusted(ctx: EventContext, stock: StockRecord, delta: number, reason: AdjustmentReason): OutboxEvent[];
  /** StockLow only when this change crossed the threshold. */
  stockLowIfCrossed(ctx: EventContext, stock: StockRecord, availableBefore: number): OutboxEvent[];
  reservationCommitted(ctx: EventContext, reservation: ReservationRecord): OutboxEvent;
  reservationReleased(ctx: EventContext, reservation: ReservationRecord): OutboxEvent;
  reservationExpired(ctx: EventContext, reservation: ReservationRecord): OutboxEvent;
  /** ReservationReserved split so the database can append the priced items (reserve_stock_batch). */
  reservedEventParts(ctx: EventContext, withoutItems: ReservationRecord): ReservedEventParts;
  transferCreated(ctx: EventContext, transfer: TransferRecord): OutboxEvent;
  transferReceived(ctx: EventContext, transfer: TransferRecord): OutboxEvent;
  transferCancelled(ctx: EventContext, transfer: TransferRecord): OutboxEvent;
  /** StockReplenished at one location (units landed or came back there). */
  stockReplenishedAt(ctx: EventContext, stock: StockRecord, quantity: number): OutboxEvent;
  /** Subject and type of the StockLow event the database writes itself. */
  stockLowRouting: { subject: string; type: string };
}
