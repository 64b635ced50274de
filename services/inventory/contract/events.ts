import { uuidv7 } from '#libs/ids/uuid.js';
import { outboxEvent, type OutboxEvent } from '#libs/events/outbox.js';
import { INVENTORY_EVENTS as EVENTS, type EventSpec } from '#libs/events/catalog.js';
import { AdjustmentReason as AdjustmentReasonMessage } from '#libs/contracts/larder/inventory/v1/resources.js';
import { isLowStock, toCategoryMessage, toProductMessage, toReservationMessage, toStockLevelMessage } from './to-proto.js';
import type { EventContext } from '../domain/event-port.js';
import type { LocationRecord } from '../domain/location-types.js';
import type { AdjustmentReason, CategoryRecord, ProductRecord, ReservationRecord, StockRecord } from '../domain/types.js';
import { toLocationMessage } from './to-proto-locations.js';

/** Builds the outbox rows for inventory's facts; subjects and messages come from the event catalog (libs/events/catalog.ts). */

export function event<T extends { metadata?: unknown }>(spec: EventSpec<T>, ctx: EventContext, body: Omit<T, 'metadata'>): OutboxEvent {
  const id = uuidv7(ctx.now.getTime());
  const metadata = { eventId: id, occurTime: ctx.now, correlationId: ctx.correlationId ?? '', source: 'inventory' };
  const message = spec.codec.fromPartial({ ...body, metadata } as never);
  return outboxEvent({
    id,
    subject: spec.subject,
    type: spec.type,
    payload: spec.codec.encode(message).finish(),
    correlationId: ctx.correlationId,
  });
}

export const productCreated = (ctx: EventContext, product: ProductRecord) =>
  event(EVENTS.productCreated, ctx, { product: toProductMessage(product) });

export const productUpdated = (ctx: EventContext, product: ProductRecord, changedFields: string[]) =>
  event(EVENTS.productUpdated, ctx, { product: toProductMessage(product), changedFields });

export const productDeleted = (ctx: EventContext, product: ProductRecord) =>
  event(EVENTS.productDeleted, ctx, { product: toProductMessage(product) });

export const productUndeleted = (ctx: EventContext, product: ProductRecord) =>
  event(EVENTS.productUndeleted, ctx, { product: toProductMessage(product) });

export const locationCreated = (ctx: EventContext, location: LocationRecord) =>
  event(EVENTS.locationCreated, ctx, { location: toLocationMessage(location) });

export const locationUpdated = (ctx: EventContext, location: LocationRecord, changedFields: string[]) =>
  event(EVENTS.locationUpdated, ctx, { location: toLocationMessage(location), changedFields });

export const locationDeleted = (ctx: EventContext, location: LocationRecord) =>
  event(EVENTS.locationDeleted, ctx, { location: toLocationMessage(location) });

export const categoryCreated = (ctx: EventContext, category: CategoryRecord) =>
  event(EVENTS.categoryCreated, ctx, { category: toCategoryMessage(category) });

export const categoryUpdated = (ctx: EventContext, category: CategoryRecord, changedFields: string[]) =>
  event(EVENTS.categoryUpdated, ctx, { category: toCategoryMessage(category), changedFields });

export const categoryDeleted = (ctx: EventContext, category: CategoryRecord, removedMemberships: number) =>
  event(EVENTS.categoryDeleted, ctx, { category: toCategoryMessage(category), removedMemberships });

export const reasonMessage: Record<AdjustmentReason, AdjustmentReasonMessage> = {
  RESTOCK: AdjustmentReasonMessage.ADJUSTMENT_REASON_RESTOCK,
  DAMAGED: AdjustmentReasonMessage.ADJUSTMENT_REASON_DAMAGED,
  EXPIRED: AdjustmentReasonMessage.ADJUSTMENT_REASON_EXPIRED,
  LOST: AdjustmentReasonMessage.ADJUSTMENT_REASON_LOST,
  CORRECTION: AdjustmentReasonMessage.ADJUSTMENT_REASON_CORRECTION,
};

/** StockAdjusted, plus StockReplenished when units were added (waiting orders retry on it). */
export function stockAdjusted(ctx: EventContext, stock: StockRecord, delta: number, reason: AdjustmentReason): OutboxEvent[] {
  const stockLevel = toStockLevelMessage(stock);
  const adjusted = event(EVENTS.stockAdjusted, ctx, {
    productId: stock.productId,
    delta,
    reason: reasonMessage[reason],
    stockLevel,
    locationId: stock.locationId,
  });
  if (delta <= 0) return [adjusted];
  return [
    adjusted,
    event(EVENTS.stockReplenished, ctx, {
      productId: stock.productId,
      quantity: delta,
      stockLevel,
      locationId: stock.locationId,
    }),
  ];
}

/**
 * StockLow only when this change crossed the threshold at the stock's location
 * (what is available to sell there went from above it to at or below it), so a
 * busy product does not repeat the alert.
 */
export function stockLowIfCrossed(ctx: EventContext, stock: StockRecord, availableToSellBefore: number): OutboxEvent[] {
  if (!isLowStock(stock) || isLowStock({ ...stock, availableToSell: availableToSellBefore })) return [];
  return [
    event(EVENTS.stockLow, ctx, {
      productId: stock.productId,
      available: stock.availableToSell,
      lowStockThreshold: stock.lowStockThreshold,
      locationId: stock.locationId,
    }),
  ];
}

export const reservationReserved = (ctx: EventContext, reservation: ReservationRecord) =>
  event(EVENTS.reservationReserved, ctx, {
    reservation: toReservationMessage(reservation),
  });

export const reservationCommitted = (ctx: EventContext, reservation: ReservationRecord) =>
  event(EVENTS.reservationCommitted, ctx, {
    reservation: toReservationMessage(reservation),
  });

export const reservationReleased = (ctx: EventContext, reservation: ReservationRecord) =>
  event(EVENTS.reservationReleased, ctx, {
    reservation: toReservationMessage(reservation),
  });

export const reservationExpired = (ctx: EventContext, reservation: ReservationRecord) =>
  event(EVENTS.reservationExpired, ctx, {
    reservation: toReservationMessage(reservation),
  });
