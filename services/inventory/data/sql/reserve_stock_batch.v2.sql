-- reserve_stock_batch(batch jsonb): who gets stock. One call decides a whole
-- batch of ReserveStock requests in one autocommit statement (data/reservations.ts,
-- reserveBatch) and writes what it granted.
--
-- The grant rule. Members are taken in arrival order (their order in `batch`),
-- exactly as serial single conditional UPDATEs would take them:
--   - a member is granted when every one of its items still fits in what the
--     members before it left; then it gets all its items, otherwise none
--     (all-or-nothing per member), and its units stay for the members after it,
--     so a large request that does not fit never blocks a smaller one behind it;
--   - an order id that already has a reservation is answered with it (same request
--     hash: a replay) or refused (other items: reused), and moves no stock;
--   - the same order id twice in one batch is granted once: the repeat is answered
--     `same_as` the first (or `reused` with other items);
--   - an unknown or deleted product wins over a short one; the first short item is
--     the one named.
-- Then, for the granted members only, set-based: reservations, items, RESERVE
-- ledger rows, the reserved event (and StockLow where a member crossed its
-- product's threshold) in the outbox, and one conditional UPDATE per product for
-- the batch's total on the stock rows locked (in product-id order) before the grants.
--
-- batch: [{ order_id, hash, now, expires_at,
--           items: [{ p: product id, q: quantity }]                        (sorted by product id),
--           event: { id, subject, type, cid, tc, metadata, reservation },  (protobuf bytes in base64; tc: trace context)
--           low: { subject, type } }]                                      (where StockLow goes)
-- returns one verdict per member, in order:
--   { ok: [[minor, currency], ...] }           reserved; unit prices in item order
--   { replay: { hash, status, ..., items } }   the order already had this reservation
--   { same_as: i }                             an earlier member of this batch reserved the same order and items
--   { reused: true }                           the order id is taken by a reservation of other items
--   { missing: product } | { deleted: product }
--   { short: product, requested, available }
--
-- Migrations apply this file (migrations/reserve-stock-batch-texts.ts names each
-- version they apply; migration 005 adds the protobuf helpers it calls). To change
-- the function: freeze this text first as reserve_stock_batch.vN.sql for the
-- migrations that applied it, then edit this file and add a migration that applies
-- it. services/inventory/test/migrations.test.ts holds every shipped version's checksum.

create or replace function reserve_stock_batch(batch jsonb) returns jsonb
language plpgsql as $$
  declare
    existing jsonb;
    stock jsonb := '{}';
    granted jsonb := '{}';
    grants jsonb := '[]';
    verdicts jsonb := '[]';
    verdict jsonb;
    short jsonb;
    prices jsonb;
    member jsonb;
    item jsonb;
    row_stock jsonb;
    lows jsonb;
    had bigint;
    left_over bigint;
    threshold bigint;
    r record;
    moved int;
  begin
    -- 1. Orders that already have a reservation (no lock: a concurrent claim of
    --    the same id makes the insert below fail, and the caller retries it alone).
    select jsonb_object_agg(v.order_id::text, jsonb_build_object(
             'hash', v.request_hash, 'status', v.status, 'expires_at', v.expires_at, 'release_reason', v.release_reason,
             'created_at', v.created_at, 'updated_at', v.updated_at,
             'items', (select jsonb_agg(jsonb_build_array(i.product_id, i.quantity, i.unit_price_minor, i.currency_code) order by i.product_id)
                         from reservation_items i where i.order_id = v.order_id)))
      into existing
      from reservations v
     -- Index conditions, here and below: as a join, the planner would take the 100 rows it
     -- assumes of jsonb_array_elements and hash them against a scan of the whole table.
     where v.order_id = any(array(select (m->>'order_id')::uuid from jsonb_array_elements(batch) m));
    existing := coalesce(existing, '{}');

    -- 2. The hot rows, as late as the grants allow: every product of the new
    --    members, locked in product-id order so batches (and replicas) never deadlock.
    for r in
      select s.product_id, s.available, p.price_minor, p.currency_code, p.deleted_at is not null as deleted, p.low_stock_threshold
        from stock_levels s join products p on p.id = s.product_id
       where s.product_id = any(array(
               select (x->>'p')::uuid from jsonb_array_elements(batch) m, jsonb_array_elements(m->'items') x
                where existing -> (m->>'order_id') is null))
       order by s.product_id
         for update of s
    loop
      stock := stock || jsonb_build_object(r.product_id::text, jsonb_build_object(
                 'a', r.available, 'price', r.price_minor, 'cur', r.currency_code, 'deleted', r.deleted, 't', r.low_stock_threshold));
    end loop;

    -- 3. Grants, member by member in arrival order.
    for member in select value from jsonb_array_elements(batch) loop
      verdict := null;
      if existing -> (member->>'order_id') is not null then
        verdict := case when existing->(member->>'order_id')->>'hash' = member->>'hash'
                        then jsonb_build_object('replay', existing->(member->>'order_id'))
                        else '{"reused": true}' end;
      elsif granted -> (member->>'order_id') is not null then
        verdict := case when granted->(member->>'order_id')->>'hash' = member->>'hash'
                        then jsonb_build_object('same_as', granted->(member->>'order_id')->'index')
                        else '{"reused": true}' end;
      else
        -- An unknown or deleted product wins over a short one; the first short item is the one named.
        short := null;
        for item in select value from jsonb_array_elements(member->'items') loop
          row_stock := stock->(item->>'p');
          if row_stock is null then
            verdict := jsonb_build_object('missing', item->>'p');
          elsif (row_stock->>'deleted')::boolean then
            verdict := jsonb_build_object('deleted', item->>'p');
          elsif short is null and (row_stock->>'a')::bigint < (item->>'q')::bigint then
            short := jsonb_build_object('short', item->>'p', 'requested', (item->>'q')::bigint, 'available', (row_stock->>'a')::bigint);
          end if;
          exit when verdict is not null;
        end loop;
        verdict := coalesce(verdict, short);
      end if;
      if verdict is null then
        lows := '[]';
        prices := '[]';
        for item in select value from jsonb_array_elements(member->'items') loop
          row_stock := stock->(item->>'p');
          had := (row_stock->>'a')::bigint;
          left_over := had - (item->>'q')::bigint;
          threshold := (row_stock->>'t')::bigint;
          prices := prices || jsonb_build_array(jsonb_build_array(row_stock->'price', row_stock->'cur'));
          stock := jsonb_set(stock, array[item->>'p', 'a'], to_jsonb(left_over));
          -- StockLow only when this reservation crossed the threshold (as stockLowIfCrossed).
          if threshold > 0 and left_over <= threshold and had > threshold then
            lows := lows || jsonb_build_array(jsonb_build_object('id', gen_random_uuid(), 'p', item->>'p', 'after', left_over, 't', threshold));
          end if;
        end loop;
        grants := grants || jsonb_build_array(member || jsonb_build_object('lows', lows));
        granted := granted || jsonb_build_object(member->>'order_id', jsonb_build_object('hash', member->>'hash', 'index', jsonb_array_length(verdicts)));
        verdict := jsonb_build_object('ok', prices);
      end if;
      verdicts := verdicts || jsonb_build_array(verdict);
    end loop;

    if jsonb_array_length(grants) = 0 then
      return verdicts;
    end if;

    -- 4. What the granted members wrote, set-based.
    insert into reservations (order_id, status, request_hash, expires_at, created_at, updated_at)
    select (g->>'order_id')::uuid, 'RESERVED', g->>'hash', (g->>'expires_at')::timestamptz, (g->>'now')::timestamptz, (g->>'now')::timestamptz
      from jsonb_array_elements(grants) g;

    insert into reservation_items (order_id, product_id, quantity, unit_price_minor, currency_code)
    select (g->>'order_id')::uuid, (x->>'p')::uuid, (x->>'q')::int, (stock->(x->>'p')->>'price')::bigint, stock->(x->>'p')->>'cur'
      from jsonb_array_elements(grants) g, jsonb_array_elements(g->'items') x;

    insert into stock_movements (product_id, kind, available_delta, reserved_delta, sold_delta, reference, created_at)
    select (x->>'p')::uuid, 'RESERVE', -(x->>'q')::bigint, (x->>'q')::bigint, 0, g->>'order_id', (g->>'now')::timestamptz
      from jsonb_array_elements(grants) g, jsonb_array_elements(g->'items') x;

    insert into outbox (id, subject, event_type, payload, correlation_id, trace_context)
    select (g->'event'->>'id')::uuid, g->'event'->>'subject', g->'event'->>'type',
           -- ReservationReserved { metadata = 1; reservation = 2 }: the service's Reservation + its priced items (field 3).
           larder_pb_bytes(1, decode(g->'event'->>'metadata', 'base64'))
             || larder_pb_bytes(2, decode(g->'event'->>'reservation', 'base64') || (
             select string_agg(larder_pb_bytes(3, larder_pb_reservation_item(x->>'p', (x->>'q')::bigint,
                                 (stock->(x->>'p')->>'price')::bigint, stock->(x->>'p')->>'cur')), ''::bytea order by o)
               from jsonb_array_elements(g->'items') with ordinality as t(x, o))),
           g->'event'->>'cid', g->'event'->'tc'
      from jsonb_array_elements(grants) g
    union all
    -- StockLow { metadata = 1; product_id = 2; available = 3; low_stock_threshold = 4 }: the reserved
    -- event's metadata with its own event_id appended (a repeated scalar field: the last one wins).
    select (l->>'id')::uuid, g->'low'->>'subject', g->'low'->>'type',
           larder_pb_bytes(1, decode(g->'event'->>'metadata', 'base64') || larder_pb_bytes(1, convert_to(l->>'id', 'UTF8')))
             || larder_pb_bytes(2, convert_to(l->>'p', 'UTF8')) || larder_pb_uint(3, (l->>'after')::bigint)
             || larder_pb_uint(4, (l->>'t')::bigint),
           g->'event'->>'cid', g->'event'->'tc'
      from jsonb_array_elements(grants) g, jsonb_array_elements(g->'lows') l;

    -- 5. One conditional UPDATE per product for the whole batch, on the rows locked in step 2.
    update stock_levels s
       set available = s.available - d.q, reserved = s.reserved + d.q, updated_at = d.at
      from (select (x->>'p')::uuid as p, sum((x->>'q')::bigint) as q, max((g->>'now')::timestamptz) as at
              from jsonb_array_elements(grants) g, jsonb_array_elements(g->'items') x group by 1) d
     where s.product_id = any(array(select (x->>'p')::uuid from jsonb_array_elements(grants) g, jsonb_array_elements(g->'items') x))
       and s.product_id = d.p and s.available >= d.q;
    get diagnostics moved = row_count;
    if moved <> (select count(distinct x->>'p') from jsonb_array_elements(grants) g, jsonb_array_elements(g->'items') x) then
      raise exception 'reserve_stock_batch: a stock row changed under its lock';
    end if;
    return verdicts;
  end $$;
