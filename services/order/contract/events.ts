import * as events from '#libs/contracts/larder/order/v1/events.js';
import type { OutboxEvent } from '#libs/events/outbox.js';
import { uuidv7 } from '#libs/ids/uuid.js';
import { toOrderMessage } from './to-proto.js';
import type { OrderEvents } from '../domain/deps.js';
import type { OrderRecord, OrderStatus } from '../domain/types.js';

/** The order's facts as outbox rows; subjects are the public event catalogue. */

interface Codec {
  encode(message: never): { finish(): Uint8Array };
  fromPartial(object: never): unknown;
}

const BY_STATUS: Record<OrderStatus, { subject: string; type: keyof typeof events; codec: Codec }> = {
  PENDING: { subject: 'orders.created', type: 'OrderCreated', codec: events.OrderCreated as Codec },
  AWAITING_STOCK: { subject: 'orders.awaiting_stock', type: 'OrderAwaitingStock', codec: events.OrderAwaitingStock as Codec },
  RESERVED: { subject: 'orders.reserved', type: 'OrderReserved', codec: events.OrderReserved as Codec },
  CONFIRMED: { subject: 'orders.confirmed', type: 'OrderConfirmed', codec: events.OrderConfirmed as Codec },
  SHIPPED: { subject: 'orders.shipped', type: 'OrderShipped', codec: events.OrderShipped as Codec },
  DELIVERED: { subject: 'orders.delivered', type: 'OrderDelivered', codec: events.OrderDelivered as Codec },
  CANCELLED: { subject: 'orders.cancelled', type: 'OrderCancelled', codec: events.OrderCancelled as Codec },
  FAILED: { subject: 'orders.failed', type: 'OrderFailed', codec: events.OrderFailed as Codec },
};

/** The event announcing that `order` entered its current status. */
export function orderStatusEvent(order: OrderRecord, ctx: { correlationId?: string; now: Date }): OutboxEvent {
  const spec = BY_STATUS[order.status];
  const id = uuidv7(ctx.now.getTime());
  const message = spec.codec.fromPartial({
    metadata: { eventId: id, occurTime: ctx.now, correlationId: ctx.correlationId ?? '', source: 'order' },
    order: toOrderMessage(order),
  } as never);
  return {
    id,
    subject: spec.subject,
    type: `larder.order.v1.${spec.type}`,
    payload: spec.codec.encode(message as never).finish(),
    correlationId: ctx.correlationId,
  };
}

/** The protobuf encoding of the domain's event port, wired into OrderDeps by app.ts (and tests). */
export const orderEvents: OrderEvents = { orderStatus: orderStatusEvent };
