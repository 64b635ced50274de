import type { InventoryEvents } from '../domain/event-port.js';
import * as events from './events.js';
import { reservedEventParts, STOCK_LOW_ROUTING } from './reservation-events.js';
import * as transfers from './transfers.js';

/** The protobuf encoding of the domain's event port, wired into InventoryDeps by app.ts (and tests). */
export const inventoryEvents: InventoryEvents = {
  productCreated: events.productCreated,
  productUpdated: events.productUpdated,
  productDeleted: events.productDeleted,
  productUndeleted: events.productUndeleted,
  locationCreated: events.locationCreated,
  locationUpdated: events.locationUpdated,
  locationDeleted: events.locationDeleted,
  categoryCreated: events.categoryCreated,
  categoryUpdated: events.categoryUpdated,
  categoryDeleted: events.categoryDeleted,
  stockAdjusted: events.stockAdjusted,
  stockLowIfCrossed: events.stockLowIfCrossed,
  reservationCommitted: events.reservationCommitted,
  reservationReleased: events.reservationReleased,
  reservationExpired: events.reservationExpired,
  transferCreated: transfers.transferCreated,
  transferReceived: transfers.transferReceived,
  transferCancelled: transfers.transferCancelled,
  stockReplenishedAt: transfers.stockReplenishedAt,
  reservedEventParts,
  stockLowRouting: STOCK_LOW_ROUTING,
};
