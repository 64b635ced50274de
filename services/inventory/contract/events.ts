import { uuidv7 } from '#libs/ids/uuid.js';
import type { OutboxEvent } from '#libs/events/outbox.js';
import * as events from '#libs/contracts/larder/inventory/v1/events.js';
import { AdjustmentReason as AdjustmentReasonMessage } from '#libs/contracts/larder/inventory/v1/resources.js';
import { isLowStock, toProductMessage, toReservationMessage, toStockLevelMessage } from './to-proto.js';
import type { EventContext } from '../domain/event-port.js';
import type { AdjustmentReason, ProductRecord, ReservationRecord, StockRecord } from '../domain/types.js';

/** Builds the outbox rows for inventory's facts; subjects are the public event catalogue. */

interface MessageCodec<T> {
  encode(message: T): { finish(): Uint8Array };
  fromPartial(object: Partial<T>): T;
}

function event<T extends { metadata?: unknown }>(
  codec: MessageCodec<T>,
  type: string,
  subject: string,
  ctx: EventContext,
  body: Omit<T, 'metadata'>,
): OutboxEvent {
  const id = uuidv7(ctx.now.getTime());
  const metadata = { eventId: id, occurTime: ctx.now, correlationId: ctx.correlationId ?? '', source: 'inventory' };
  const message = codec.fromPartial({ ...body, metadata } as unknown as Partial<T>);
  return { id, subject, type: `larder.inventory.v1.${type}`, payload: codec.encode(message).finish(), correlationId: ctx.correlationId };
}

export const productCreated = (ctx: EventContext, product: ProductRecord) =>
  event(events.ProductCreated, 'ProductCreated', 'inventory.product.created', ctx, { product: toProductMessage(product) });

export const productUpdated = (ctx: EventContext, product: ProductRecord, changedFields: string[]) =>
  event(events.ProductUpdated, 'ProductUpdated', 'inventory.product.updated', ctx, { product: toProductMessage(product), changedFields });

export const productDeleted = (ctx: EventContext, product: ProductRecord) =>
  event(events.ProductDeleted, 'ProductDeleted', 'inventory.product.deleted', ctx, { product: toProductMessage(product) });

export const productUndeleted = (ctx: EventContext, product: ProductRecord) =>
  event(events.ProductUndeleted, 'ProductUndeleted', 'inventory.product.undeleted', ctx, { product: toProductMessage(product) });

const reasonMessage: Record<AdjustmentReason, AdjustmentReasonMessage> = {
  RESTOCK: AdjustmentReasonMessage.ADJUSTMENT_REASON_RESTOCK,
  DAMAGED: AdjustmentReasonMessage.ADJUSTMENT_REASON_DAMAGED,
  EXPIRED: AdjustmentReasonMessage.ADJUSTMENT_REASON_EXPIRED,
  LOST: AdjustmentReasonMessage.ADJUSTMENT_REASON_LOST,
  CORRECTION: AdjustmentReasonMessage.ADJUSTMENT_REASON_CORRECTION,
};

/** StockAdjusted, plus StockReplenished when units were added (waiting orders retry on it). */
export function stockAdjusted(ctx: EventContext, stock: StockRecord, delta: number, reason: AdjustmentReason): OutboxEvent[] {
  const stockLevel = toStockLevelMessage(stock);
  const adjusted = event(events.StockAdjusted, 'StockAdjusted', 'inventory.stock.adjusted', ctx, {
    productId: stock.productId,
    delta,
    reason: reasonMessage[reason],
    stockLevel,
  });
  if (delta <= 0) return [adjusted];
  return [
    adjusted,
    event(events.StockReplenished, 'StockReplenished', 'inventory.stock.replenished', ctx, {
      productId: stock.productId,
      quantity: delta,
      stockLevel,
    }),
  ];
}

/** StockLow only when this change crossed the threshold, so a busy product does not repeat the alert. */
export function stockLowIfCrossed(ctx: EventContext, stock: StockRecord, availableBefore: number): OutboxEvent[] {
  if (!isLowStock(stock) || isLowStock({ ...stock, available: availableBefore })) return [];
  return [
    event(events.StockLow, 'StockLow', 'inventory.stock.low', ctx, {
      productId: stock.productId,
      available: stock.available,
      lowStockThreshold: stock.lowStockThreshold,
    }),
  ];
}

export const reservationReserved = (ctx: EventContext, reservation: ReservationRecord) =>
  event(events.ReservationReserved, 'ReservationReserved', 'inventory.reservation.reserved', ctx, {
    reservation: toReservationMessage(reservation),
  });

export const reservationCommitted = (ctx: EventContext, reservation: ReservationRecord) =>
  event(events.ReservationCommitted, 'ReservationCommitted', 'inventory.reservation.committed', ctx, {
    reservation: toReservationMessage(reservation),
  });

export const reservationReleased = (ctx: EventContext, reservation: ReservationRecord) =>
  event(events.ReservationReleased, 'ReservationReleased', 'inventory.reservation.released', ctx, {
    reservation: toReservationMessage(reservation),
  });

export const reservationExpired = (ctx: EventContext, reservation: ReservationRecord) =>
  event(events.ReservationExpired, 'ReservationExpired', 'inventory.reservation.expired', ctx, {
    reservation: toReservationMessage(reservation),
  });
