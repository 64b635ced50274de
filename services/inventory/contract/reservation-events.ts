import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import type { ReservedEventParts } from '../domain/reservation-types.js';
import type { EventContext } from '../domain/event-port.js';
import { INVENTORY_EVENTS } from '#libs/events/catalog.js';
import { reservationReserved } from './events.js';
import type { ReservationRecord } from '../domain/types.js';

/**
 * The events of a reservation whose prices and stock only the database knows
 * when it writes them: reserve_stock_batch (migration 005) appends those
 * protobuf fields. Envelopes come from ./events.ts, so ids, times and
 * correlation ids are made in one place.
 */

/**
 * ReservationReserved for the reservation without items, split at its two
 * fields, metadata (1) and reservation (2): the database appends the priced
 * items to the reservation, and reuses the metadata for a StockLow event.
 */
export function reservedEventParts(ctx: EventContext, withoutItems: ReservationRecord): ReservedEventParts {
  const event = reservationReserved(ctx, withoutItems);
  const reader = new BinaryReader(event.payload);
  const metadata = lengthDelimited(reader, 1);
  const reservation = lengthDelimited(reader, 2);
  if (reader.pos !== reader.len) throw new Error('ReservationReserved has fields after its reservation');
  return { event, metadata, reservation };
}

function lengthDelimited(reader: BinaryReader, field: number): Uint8Array {
  const [number, wireType] = reader.tag();
  if (number !== field || wireType !== WireType.LengthDelimited) throw new Error(`ReservationReserved: expected field ${field} next`);
  return reader.bytes();
}

/** Subject and type of StockLow, from the catalog (the database writes the event itself). */
export const STOCK_LOW_ROUTING = { subject: INVENTORY_EVENTS.stockLow.subject, type: INVENTORY_EVENTS.stockLow.type };
