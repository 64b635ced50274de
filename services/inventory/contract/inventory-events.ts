import type { InventoryEvents } from '../domain/event-port.js';
import * as events from './events.js';
import { reservedEventParts, STOCK_LOW_ROUTING } from './reservation-events.js';

/** The protobuf encoding of the domain's event port, wired into InventoryDeps by app.ts (and tests). */
export const inventoryEvents: InventoryEvents = {
  productCreated: events.productCreated,
  productUpdated: events.productUpdated,
  productDeleted: events.productDeleted,
  productUndeleted: events.productUndeleted,
  locationCreated: events.locationCreated,
  locationUpdated: events.locationUpdated,
  locationDeleted: events.locationDeleted,
  stockAdjusted: events.stockAdjusted,
  stockLowIfCrossed: events.stockLowIfCrossed,
  reservationCommitted: events.reservationCommitted,
  reservationReleased: events.reservationReleased,
  reservationExpired: events.reservationExpired,
  reservedEventParts,
  stockLowRouting: STOCK_LOW_ROUTING,
};
