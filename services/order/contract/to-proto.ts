import {
  OrderStatus as OrderStatusMessage,
  PaymentStatus as PaymentStatusMessage,
  type Fulfilment as FulfilmentMessage,
  type Order,
  type OrderEvent,
} from '#libs/contracts/larder/order/v1/resources.js';
import type { Fulfilment, OrderEventRecord, OrderRecord, OrderStatus, PaymentStatus } from '../domain/types.js';

/** Domain records → protobuf messages, shared by the gRPC handlers and the events. */

export const orderStatusMessage: Record<OrderStatus, OrderStatusMessage> = {
  PENDING: OrderStatusMessage.ORDER_STATUS_PENDING,
  AWAITING_STOCK: OrderStatusMessage.ORDER_STATUS_AWAITING_STOCK,
  RESERVED: OrderStatusMessage.ORDER_STATUS_RESERVED,
  CONFIRMED: OrderStatusMessage.ORDER_STATUS_CONFIRMED,
  SHIPPED: OrderStatusMessage.ORDER_STATUS_SHIPPED,
  DELIVERED: OrderStatusMessage.ORDER_STATUS_DELIVERED,
  CANCELLED: OrderStatusMessage.ORDER_STATUS_CANCELLED,
  FAILED: OrderStatusMessage.ORDER_STATUS_FAILED,
};

/** Message enum value → domain status (undefined for unknown values and _UNSPECIFIED). */
export const orderStatusFromMessage = (value: number): OrderStatus | undefined =>
  (Object.entries(orderStatusMessage) as [OrderStatus, number][]).find(([, v]) => v === value)?.[0];

const paymentStatusMessage: Record<PaymentStatus, PaymentStatusMessage> = {
  NOT_STARTED: PaymentStatusMessage.PAYMENT_STATUS_NOT_STARTED,
  PENDING: PaymentStatusMessage.PAYMENT_STATUS_PENDING,
  CAPTURED: PaymentStatusMessage.PAYMENT_STATUS_CAPTURED,
  DECLINED: PaymentStatusMessage.PAYMENT_STATUS_DECLINED,
  REFUNDED: PaymentStatusMessage.PAYMENT_STATUS_REFUNDED,
};

/** A fulfilment record → its message (undefined stays unset). */
export function toFulfilmentMessage(fulfilment: Fulfilment | undefined): FulfilmentMessage | undefined {
  if (!fulfilment) return undefined;
  if (fulfilment.kind === 'pickup') return { pickup: { locationId: fulfilment.locationId } };
  return { delivery: { address: fulfilment.address, coordinates: fulfilment.coordinates } };
}

export const toOrderMessage = (order: OrderRecord): Order => ({
  id: order.id,
  customerId: order.customerId,
  status: orderStatusMessage[order.status],
  items: order.items.map((item) => ({ productId: item.productId, quantity: item.quantity, unitPrice: item.unitPrice })),
  total: order.total,
  paymentStatus: paymentStatusMessage[order.paymentStatus],
  shippingAddress: order.shippingAddress,
  attempts: order.attempts,
  lastError: order.lastError ?? '',
  idempotencyKey: order.idempotencyKey,
  nextAttemptTime: order.nextAttemptAt,
  cancelReason: order.cancelReason ?? '',
  etag: String(order.version),
  createTime: order.createdAt,
  updateTime: order.updatedAt,
  deleteTime: order.deletedAt,
  cancelRequested: order.cancelRequested,
  fulfilment: toFulfilmentMessage(order.fulfilment),
  allocations: (order.allocations ?? []).map((a) => ({ productId: a.productId, locationId: a.locationId, quantity: a.quantity })),
});

export const toOrderEventMessage = (event: OrderEventRecord): OrderEvent => ({
  sequence: event.sequence,
  orderId: event.orderId,
  fromStatus: event.fromStatus ? orderStatusMessage[event.fromStatus] : OrderStatusMessage.ORDER_STATUS_UNSPECIFIED,
  toStatus: orderStatusMessage[event.toStatus],
  reason: event.reason,
  error: event.error ?? '',
  correlationId: event.correlationId ?? '',
  createTime: event.createdAt,
});
