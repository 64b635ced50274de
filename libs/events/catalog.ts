import * as inventory from '#libs/contracts/larder/inventory/v1/events.js';
import * as order from '#libs/contracts/larder/order/v1/events.js';

/**
 * The event catalog: every subject Larder publishes, the protobuf message it
 * carries and that message's full name (the Larder-Event-Type header). Producers
 * and consumers both import it, so a subject is written once; events.proto's
 * "Subject …" comments are the published contract, and
 * libs/events/test/unit/catalog.test.ts holds this file to them.
 */

/** The generated codec of one event message (ts-proto's MessageFns, as far as events need it). */
export interface EventCodec<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(input: Uint8Array): T;
  fromPartial(object: never): T;
}

export interface EventSpec<T = unknown> {
  subject: string;
  /** Fully-qualified message name, e.g. larder.order.v1.OrderConfirmed. */
  type: string;
  codec: EventCodec<T>;
}

type Messages<M> = { [K in keyof M]: M[K] extends EventCodec<infer T> ? T : never };

function spec<M, K extends keyof M & string>(module: M, packageName: string, name: K, subject: string): EventSpec<Messages<M>[K]> {
  return Object.freeze({ subject, type: `${packageName}.${name}`, codec: module[name] as EventCodec<Messages<M>[K]> });
}

const inventoryEvent = <K extends keyof typeof inventory & string>(name: K, subject: string) =>
  spec(inventory, inventory.protobufPackage, name, subject);
const orderEvent = <K extends keyof typeof order & string>(name: K, subject: string) => spec(order, order.protobufPackage, name, subject);

/** What the inventory service publishes (stream INVENTORY). */
export const INVENTORY_EVENTS = Object.freeze({
  productCreated: inventoryEvent('ProductCreated', 'inventory.product.created'),
  productUpdated: inventoryEvent('ProductUpdated', 'inventory.product.updated'),
  productDeleted: inventoryEvent('ProductDeleted', 'inventory.product.deleted'),
  productUndeleted: inventoryEvent('ProductUndeleted', 'inventory.product.undeleted'),
  locationCreated: inventoryEvent('LocationCreated', 'inventory.location.created'),
  locationUpdated: inventoryEvent('LocationUpdated', 'inventory.location.updated'),
  locationDeleted: inventoryEvent('LocationDeleted', 'inventory.location.deleted'),
  categoryCreated: inventoryEvent('CategoryCreated', 'inventory.category.created'),
  categoryUpdated: inventoryEvent('CategoryUpdated', 'inventory.category.updated'),
  categoryDeleted: inventoryEvent('CategoryDeleted', 'inventory.category.deleted'),
  stockAdjusted: inventoryEvent('StockAdjusted', 'inventory.stock.adjusted'),
  stockReplenished: inventoryEvent('StockReplenished', 'inventory.stock.replenished'),
  stockLow: inventoryEvent('StockLow', 'inventory.stock.low'),
  reservationReserved: inventoryEvent('ReservationReserved', 'inventory.reservation.reserved'),
  reservationCommitted: inventoryEvent('ReservationCommitted', 'inventory.reservation.committed'),
  reservationReleased: inventoryEvent('ReservationReleased', 'inventory.reservation.released'),
  reservationExpired: inventoryEvent('ReservationExpired', 'inventory.reservation.expired'),
  transferCreated: inventoryEvent('TransferCreated', 'inventory.transfer.created'),
  transferReceived: inventoryEvent('TransferReceived', 'inventory.transfer.received'),
  transferCancelled: inventoryEvent('TransferCancelled', 'inventory.transfer.cancelled'),
});

/** What the order service publishes (stream ORDERS): one event per status an order enters. */
export const ORDER_EVENTS = Object.freeze({
  created: orderEvent('OrderCreated', 'orders.created'),
  awaitingStock: orderEvent('OrderAwaitingStock', 'orders.awaiting_stock'),
  reserved: orderEvent('OrderReserved', 'orders.reserved'),
  confirmed: orderEvent('OrderConfirmed', 'orders.confirmed'),
  cancelled: orderEvent('OrderCancelled', 'orders.cancelled'),
  failed: orderEvent('OrderFailed', 'orders.failed'),
  shipped: orderEvent('OrderShipped', 'orders.shipped'),
  delivered: orderEvent('OrderDelivered', 'orders.delivered'),
});
