import { ORDER_EVENTS, type EventSpec } from '#libs/events/catalog.js';
import { outboxEvent, type OutboxEvent } from '#libs/events/outbox.js';
import { uuidv7 } from '#libs/ids/uuid.js';
import { toOrderMessage } from './to-proto.js';
import type { OrderEvents } from '../domain/deps.js';
import type { OrderRecord, OrderStatus } from '../domain/types.js';

/** The order's facts as outbox rows; subjects and messages come from the event catalog (libs/events/catalog.ts). */

/** The event each status an order enters announces. */
const BY_STATUS: Record<OrderStatus, EventSpec> = {
  PENDING: ORDER_EVENTS.created,
  AWAITING_STOCK: ORDER_EVENTS.awaitingStock,
  RESERVED: ORDER_EVENTS.reserved,
  CONFIRMED: ORDER_EVENTS.confirmed,
  SHIPPED: ORDER_EVENTS.shipped,
  DELIVERED: ORDER_EVENTS.delivered,
  CANCELLED: ORDER_EVENTS.cancelled,
  FAILED: ORDER_EVENTS.failed,
};

/** The event announcing that `order` entered its current status. */
export function orderStatusEvent(order: OrderRecord, ctx: { correlationId?: string; now: Date }): OutboxEvent {
  const spec = BY_STATUS[order.status];
  const id = uuidv7(ctx.now.getTime());
  const message = spec.codec.fromPartial({
    metadata: { eventId: id, occurTime: ctx.now, correlationId: ctx.correlationId ?? '', source: 'order' },
    order: toOrderMessage(order),
  } as never);
  return outboxEvent({
    id,
    subject: spec.subject,
    type: spec.type,
    payload: spec.codec.encode(message as never).finish(),
    correlationId: ctx.correlationId,
  });
}

/** The protobuf encoding of the domain's event port, wired into OrderDeps by app.ts (and tests). */
export const orderEvents: OrderEvents = { orderStatus: orderStatusEvent };
