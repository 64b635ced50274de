import type { Knex } from 'knex';
import type { Migration } from '#libs/db/migrate.js';
import { setLockTimeout } from '#libs/db/migrate.js';
import { RESERVE_STOCK_BATCH_V2 } from './reserve-stock-batch-texts.js';

/**
 * reserve_stock_batch(batch jsonb): a whole batch of ReserveStock requests in ONE
 * statement (one round trip, autocommit), so a reservation costs no BEGIN/COMMIT
 * round trips and no read before it. Members are processed in arrival order, as
 * serial single UPDATEs would be: a member is granted if all its items still fit
 * in what the members before it left; one that does not fit never blocks a later,
 * smaller one. Then, for the granted members only: reservations, items, RESERVE
 * ledger rows, the reserved event (and StockLow where a member crossed the
 * threshold), and one conditional UPDATE per product for the batch's total.
 *
 * Events are protobuf. The service encodes all it knows; the database appends
 * what only it knows (prices, stock left), which protobuf allows: appended
 * repeated fields add items, a repeated scalar field replaces the earlier one.
 * StockLow reuses the reserved event's metadata with an event id of its own
 * (gen_random_uuid: these events are rare, so the id's order does not matter).
 *
 * Only new functions: nothing running waits on this migration. The function's
 * source is data/sql/reserve_stock_batch.sql; the version each migration applies
 * is named in reserve-stock-batch-texts.ts.
 */
const PROTOBUF_HELPERS = `
  -- Protobuf varint of a non-negative integer: the loop, for any size.
  create or replace function larder_pb_varint_loop(v bigint) returns bytea
  language plpgsql immutable strict as $$
  declare
    out bytea := ''::bytea;
  begin
    if v < 0 then
      raise exception 'larder_pb_varint: % is negative', v;
    end if;
    while v >= 128 loop
      out := out || set_byte('\\x00'::bytea, 0, ((v & 127) | 128)::int);
      v := v >> 7;
    end loop;
    return out || set_byte('\\x00'::bytea, 0, v::int);
  end $$;

  -- The same, as one expression for values below 2^14 (tags, lengths, quantities),
  -- which the planner inlines into its caller; not STRICT, so that it can.
  create or replace function larder_pb_varint(v bigint) returns bytea
  language sql immutable as $$
    select case when v >= 0 and v < 128 then set_byte('\\x00'::bytea, 0, v::int)
                when v >= 128 and v < 16384 then set_byte(set_byte('\\x0000'::bytea, 0, ((v & 127) | 128)::int), 1, (v >> 7)::int)
                else larder_pb_varint_loop(v) end
  $$;

  -- A varint field (int32, int64 of a non-negative value, enum).
  create or replace function larder_pb_uint(field int, value bigint) returns bytea
  language sql immutable as $$
    select larder_pb_varint((field << 3)::bigint) || larder_pb_varint(value)
  $$;

  -- A length-delimited field (string, bytes, embedded message). PL/pgSQL, so its
  -- argument is evaluated once however complex it is.
  create or replace function larder_pb_bytes(field int, value bytea) returns bytea
  language plpgsql immutable strict as $$
  begin
    return larder_pb_varint(((field << 3) | 2)::bigint) || larder_pb_varint(length(value)::bigint) || value;
  end $$;

  -- larder.inventory.v1.ReservationItem { product_id = 1; quantity = 2; unit_price = 3 (Money { currency_code = 1; minor_units = 2 }) }.
  create or replace function larder_pb_reservation_item(product_id text, quantity bigint, minor bigint, currency text) returns bytea
  language plpgsql immutable strict as $$
  begin
    return larder_pb_bytes(1, convert_to(product_id, 'UTF8')) || larder_pb_uint(2, quantity)
        || larder_pb_bytes(3, larder_pb_bytes(1, convert_to(currency, 'UTF8')) || larder_pb_uint(2, minor));
  end $$;
`;

export const reserveStockBatch: Migration = {
  name: '005-reserve-stock-batch',
  async up(db: Knex) {
    await setLockTimeout(db);
    await db.raw(PROTOBUF_HELPERS);
    await db.raw(RESERVE_STOCK_BATCH_V2);
  },
  async down(db: Knex) {
    await db.raw('drop function if exists reserve_stock_batch(jsonb)');
    for (const fn of [
      'larder_pb_reservation_item(text, bigint, bigint, text)',
      'larder_pb_uint(int, bigint)',
      'larder_pb_bytes(int, bytea)',
    ]) {
      await db.raw(`drop function if exists ${fn}`);
    }
    await db.raw('drop function if exists larder_pb_varint(bigint)');
  },
};
