import { ReservationReserved } from '../../../../libs/contracts/larder/inventory/v1/events.js';
import { Reservation } from '../../../../libs/contracts/larder/inventory/v1/resources.js';
import type { OutboxEvent } from '../../../../libs/events/outbox.js';
import type { ReservedEventParts } from '../../data/reservations.js';
import { reservationReserved, stockLowIfCrossed, type EventContext } from '../events.js';
import type { ReservationRecord } from '../types.js';

/**
 * The events of a reservation whose prices and stock only the database knows
 * when it writes them (reserve_stock_batch appends those protobuf fields).
 * Envelopes come from ../events.ts, so ids, times and correlation ids are
 * made in one place.
 */

/** ReservationReserved for a reservation without items, split into envelope and reservation. */
export function reservedEventParts(ctx: EventContext, withoutItems: ReservationRecord): ReservedEventParts {
  const event = reservationReserved(ctx, withoutItems);
  const decoded = ReservationReserved.decode(event.payload);
  return {
    event,
    head: ReservationReserved.encode({ metadata: decoded.metadata, reservation: undefined }).finish(),
    body: Reservation.encode(decoded.reservation!).finish(),
  };
}

/**
 * The StockLow event of one product, written only if this reservation crosses
 * its threshold; the database appends `available` and `low_stock_threshold`,
 * which replace the placeholders encoded here (a later scalar field wins).
 */
export function stockLowPlaceholder(ctx: EventContext, productId: string): OutboxEvent {
  const crossed = { productId, available: 0, reserved: 0, sold: 0, lowStockThreshold: 1, updatedAt: ctx.now };
  return stockLowIfCrossed(ctx, crossed, 2)[0]!;
}
