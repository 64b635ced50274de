-- reserve_stock_batch(batch jsonb): who gets stock, and where. One call decides a
-- whole batch of ReserveStock requests in one autocommit statement
-- (data/reservations.ts, reserveBatch) and writes what it granted.
--
-- The grant rule (docs/design.md §2, per (product, location) since §8). Members
-- are taken in arrival order (their order in `batch`), exactly as serial single
-- conditional UPDATEs would take them:
--   - a member is granted when an allocation of every one of its items fits in
--     what the members before it left at its candidate locations; then it gets
--     all its items, otherwise none (all-or-nothing per member, across its lines
--     and locations), and the units stay for the members after it, so a large
--     request that does not fit never blocks a smaller one behind it;
--   - what fits at a location is its stock available to sell: available minus
--     safety stock, never below zero (a reservation never takes safety stock);
--   - the allocation (routing, docs/design.md §8): `cands` are the member's
--     locations ranked by the service (nearest, then priority, then code; only
--     active ones that serve the destination). Single location: the first
--     candidate that can fill every item. Split allowed: that too when one can;
--     else, greedily, the candidate that can fill the most remaining items whole,
--     then the next, until no item can be filled whole anywhere; the items left
--     are split over the chosen locations first, then the others, in rank order.
--     A candidate that lost its stock to an earlier member is simply passed over
--     for the next one: routing never reads totals, only the locked rows;
--   - a pinned member (one location named) whose location is inactive or
--     deleted is refused (`inactive`); inactive candidates of a routed member are
--     skipped (the service's ranking may be a moment old);
--   - an order id that already has a reservation is answered with it (same request
--     hash: a replay) or refused (other request: reused), and moves no stock;
--   - the same order id twice in one batch is granted once: the repeat is answered
--     `same_as` the first (or `reused` with another request);
--   - an unknown or deleted product wins over a short one.
-- Then, for the granted members only, set-based: reservations, one item row per
-- allocation line, RESERVE ledger rows per location, the reserved event (and
-- StockLow per (product, location) where a member crossed its threshold) in the
-- outbox, and one conditional UPDATE per (product, location) for the batch's total
-- on the stock rows locked (in (product, location) order) before the grants.
--
-- batch: [{ order_id, hash, now, expires_at,
--           items: [{ p: product id, q: quantity }]                        (sorted by product id),
--           cands: [location id, ...], split: bool, pinned: bool           (ranked; absent: the default location, single),
--           event: { id, subject, type, cid, tc, metadata, reservation },  (protobuf bytes in base64; tc: trace context)
--           low: { subject, type } }]                                      (where StockLow goes)
-- returns one verdict per member, in order:
--   { ok: [[minor, currency], ...], alloc: [[product, location, quantity], ...] }
--                                              reserved; unit prices in item order; allocation by product, location
--   { replay: { hash, status, ..., items, alloc } }   the order already had this reservation
--   { same_as: i }                             an earlier member of this batch reserved the same order and request
--   { reused: true }                           the order id is taken by a reservation of another request
--   { missing: product } | { deleted: product } | { inactive: location }
--   { short: product, requested, available, lines: [{ p, requested, available }] }
--                                              no allocation fits; per item the best a location (single) or
--                                              all candidates (split) have; the first item that has too little named
--
-- Migrations apply this file (migrations/reserve-stock-batch-texts.ts names each
-- version they apply; migration 005 adds the protobuf helpers it calls, 008 the
-- allocation-line helper and larder_stock_left). To change the function: freeze this text first as
-- reserve_stock_batch.vN.sql for the migrations that applied it, then edit this
-- file and add a migration that applies it. services/inventory/test/migrations.test.ts
-- holds every shipped version's checksum.

create or replace function reserve_stock_batch(batch jsonb) returns jsonb
language plpgsql as $$
  declare
    existing jsonb;
    stock jsonb := '{}';
    taken jsonb := '{}';
    prod jsonb := '{}';
    locs jsonb := '{}';
    granted jsonb := '{}';
    grants jsonb := '[]';
    verdicts jsonb := '[]';
    verdict jsonb;
    prices jsonb;
    member jsonb;
    item jsonb;
    cands text[];
    order_locs text[];
    loc text;
    best_loc text;
    default_loc text;
    alloc jsonb;
    whole jsonb;
    lines jsonb;
    lows jsonb;
    key text;
    fits boolean;
    split boolean;
    n int;
    best_n int;
    best bigint;
    ats bigint;
    take bigint;
    remaining bigint;
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
             'items', (select jsonb_agg(jsonb_build_array(i.product_id, i.q, i.minor, i.cur) order by i.product_id)
                         from (select product_id, sum(quantity) as q, max(unit_price_minor) as minor, max(currency_code) as cur
                                 from reservation_items where order_id = v.order_id group by product_id) i),
             'alloc', (select jsonb_agg(jsonb_build_array(i.product_id, i.location_id, i.quantity) order by i.product_id, i.location_id)
                         from reservation_items i where i.order_id = v.order_id)))
      into existing
      from reservations v
     -- Index conditions, here and below: as a join, the planner would take the 100 rows it
     -- assumes of jsonb_array_elements and hash them against a scan of the whole table.
     where v.order_id = any(array(select (m->>'order_id')::uuid from jsonb_array_elements(batch) m));
    existing := coalesce(existing, '{}');

    -- Members of the release before locations name no candidates: the default location.
    if exists (select 1 from jsonb_array_elements(batch) m where m->'cands' is null) then
      select id::text into default_loc from locations where is_default;
    end if;

    -- 2. The products and locations of the new members (no lock: a deleted flag read
    --    a moment early orders the delete after this batch), then their hot rows, as
    --    late as the grants allow, locked in (product, location) order so batches
    --    (and replicas) never deadlock. The rows locked are every candidate location
    --    of every product named: a superset of the pairs the grants may touch.
    --    Each map is built by one aggregate: appending to a jsonb row by row copies
    --    it every time, which at 64 members × 4 candidates was most of the batch.
    select coalesce(jsonb_object_agg(p.id::text, jsonb_build_object(
             'price', p.price_minor, 'cur', p.currency_code, 'deleted', p.deleted_at is not null)), '{}')
      into prod
      from products p
     where p.id = any(array(
             select (x->>'p')::uuid from jsonb_array_elements(batch) m, jsonb_array_elements(m->'items') x
              where existing -> (m->>'order_id') is null));
    select coalesce(jsonb_object_agg(l.id::text, l.active and l.deleted_at is null), '{}')
      into locs
      from locations l
     where l.id = any(array(
             select coalesce(c.value, default_loc)::uuid
               from jsonb_array_elements(batch) m
               left join lateral jsonb_array_elements_text(m->'cands') c on true
              where existing -> (m->>'order_id') is null));
    -- stock: 'product|location' → [available to sell, threshold in force], as locked. What the
    -- batch grants is kept apart in `taken` (the few keys granted), so a grant rewrites that
    -- small map, not this one: left to sell = stock[0] − taken.
    select coalesce(jsonb_object_agg(k, v), '{}')
      into stock
      from (select s.product_id::text || '|' || s.location_id::text as k,
                   jsonb_build_array(greatest(s.available - s.safety_stock, 0), coalesce(s.low_stock_threshold, p.low_stock_threshold)) as v
              from stock_levels s join products p on p.id = s.product_id
             where s.product_id = any(array(select k::uuid from jsonb_object_keys(prod) k))
               and s.location_id = any(array(select k::uuid from jsonb_object_keys(locs) k))
             order by s.product_id, s.location_id
               for update of s) locked;

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
        -- An unknown or deleted product wins over a short one.
        for item in select value from jsonb_array_elements(member->'items') loop
          if prod->(item->>'p') is null then
            verdict := jsonb_build_object('missing', item->>'p');
          elsif (prod->(item->>'p')->>'deleted')::boolean then
            verdict := jsonb_build_object('deleted', item->>'p');
          end if;
          exit when verdict is not null;
        end loop;
        if member->'cands' is null then
          cands := array[default_loc];
        else
          cands := array(select jsonb_array_elements_text(member->'cands'));
        end if;
        if verdict is null and coalesce((member->>'pinned')::boolean, false) and not coalesce((locs->>cands[1])::boolean, false) then
          verdict := jsonb_build_object('inactive', cands[1]);
        end if;
        -- Only active candidates (a routed member's ranking may be a moment old).
        cands := array(select c from unnest(cands) with ordinality u(c, o) where coalesce((locs->>c)::boolean, false) order by o);
        split := coalesce((member->>'split')::boolean, false);
      end if;

      if verdict is null then
        -- Available to sell of an item at a location: larder_stock_left (what is locked, less what
        -- this batch granted there); a location with no row for the product has 0.
        alloc := null;
        -- One location for everything: the first candidate that can fill every item.
        foreach loc in array cands loop
          fits := true;
          for item in select value from jsonb_array_elements(member->'items') loop
            key := (item->>'p') || '|' || loc;
            if larder_stock_left(stock, taken, key) < (item->>'q')::bigint then
              fits := false;
              exit;
            end if;
          end loop;
          if fits then
            alloc := (select jsonb_agg(jsonb_build_array(x->>'p', loc, (x->>'q')::bigint)) from jsonb_array_elements(member->'items') x);
            exit;
          end if;
        end loop;

        if alloc is null and split then
          -- Whole items first: repeatedly the candidate that fills the most items not yet placed.
          whole := '{}';
          order_locs := '{}';
          loop
            best_loc := null;
            best_n := 0;
            foreach loc in array cands loop
              n := 0;
              for item in select value from jsonb_array_elements(member->'items') loop
                key := (item->>'p') || '|' || loc;
                if whole->(item->>'p') is null
                   and larder_stock_left(stock, taken, key) >= (item->>'q')::bigint then
                  n := n + 1;
                end if;
              end loop;
              if n > best_n then
                best_n := n;
                best_loc := loc;
              end if;
            end loop;
            exit when best_loc is null;
            order_locs := order_locs || best_loc;
            for item in select value from jsonb_array_elements(member->'items') loop
              key := (item->>'p') || '|' || best_loc;
              if whole->(item->>'p') is null
                 and larder_stock_left(stock, taken, key) >= (item->>'q')::bigint then
                whole := whole || jsonb_build_object(item->>'p', best_loc);
              end if;
            end loop;
          end loop;
          -- Then the items no location has whole, split: the chosen locations first, then the rest, by rank.
          order_locs := order_locs || array(select c from unnest(cands) with ordinality u(c, o) where c <> all(order_locs) order by o);
          alloc := '[]';
          for item in select value from jsonb_array_elements(member->'items') loop
            if whole->(item->>'p') is not null then
              alloc := alloc || jsonb_build_array(jsonb_build_array(item->>'p', whole->>(item->>'p'), (item->>'q')::bigint));
              continue;
            end if;
            remaining := (item->>'q')::bigint;
            foreach loc in array order_locs loop
              exit when remaining = 0;
              key := (item->>'p') || '|' || loc;
              take := least(larder_stock_left(stock, taken, key), remaining);
              if take > 0 then
                alloc := alloc || jsonb_build_array(jsonb_build_array(item->>'p', loc, take));
                remaining := remaining - take;
              end if;
            end loop;
            if remaining > 0 then
              alloc := null;
              exit;
            end if;
          end loop;
        end if;

        if alloc is null then
          -- Short: per item the best there is (one location's, or all candidates' when split), the first too small named.
          lines := '[]';
          verdict := null;
          for item in select value from jsonb_array_elements(member->'items') loop
            best := 0;
            foreach loc in array cands loop
              key := (item->>'p') || '|' || loc;
              ats := larder_stock_left(stock, taken, key);
              best := case when split then best + ats else greatest(best, ats) end;
            end loop;
            lines := lines || jsonb_build_array(jsonb_build_object('p', item->>'p', 'requested', (item->>'q')::bigint, 'available', best));
            if verdict is null and best < (item->>'q')::bigint then
              verdict := jsonb_build_object('short', item->>'p', 'requested', (item->>'q')::bigint, 'available', best);
            end if;
          end loop;
          -- Every item fits somewhere, but no one location has them all (single location).
          verdict := coalesce(verdict, jsonb_build_object('short', lines->0->>'p', 'requested', lines->0->'requested', 'available', lines->0->'available'))
                     || jsonb_build_object('lines', lines);
        else
          lows := '[]';
          prices := (select jsonb_agg(jsonb_build_array(prod->(x->>'p')->'price', prod->(x->>'p')->'cur') order by o)
                       from jsonb_array_elements(member->'items') with ordinality t(x, o));
          alloc := (select jsonb_agg(a order by a->>0, a->>1) from jsonb_array_elements(alloc) a);
          for item in select value from jsonb_array_elements(alloc) loop
            key := (item->>0) || '|' || (item->>1);
            had := larder_stock_left(stock, taken, key);
            taken := taken || jsonb_build_object(key, coalesce((taken->>key)::bigint, 0) + (item->>2)::bigint);
            left_over := had - (item->>2)::bigint;
            threshold := (stock->key->>1)::bigint;
            -- StockLow only when this reservation crossed the threshold at that location (as stockLowIfCrossed).
            if threshold > 0 and left_over <= threshold and had > threshold then
              lows := lows || jsonb_build_array(jsonb_build_object('id', gen_random_uuid(), 'p', item->>0, 'l', item->>1, 'after', left_over, 't', threshold));
            end if;
          end loop;
          grants := grants || jsonb_build_array(member || jsonb_build_object('lows', lows, 'alloc', alloc));
          granted := granted || jsonb_build_object(member->>'order_id', jsonb_build_object('hash', member->>'hash', 'index', jsonb_array_length(verdicts)));
          verdict := jsonb_build_object('ok', prices, 'alloc', alloc);
        end if;
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

    insert into reservation_items (order_id, product_id, location_id, quantity, unit_price_minor, currency_code)
    select (g->>'order_id')::uuid, (a->>0)::uuid, (a->>1)::uuid, (a->>2)::int, (prod->(a->>0)->>'price')::bigint, prod->(a->>0)->>'cur'
      from jsonb_array_elements(grants) g, jsonb_array_elements(g->'alloc') a;

    insert into stock_movements (product_id, location_id, kind, available_delta, reserved_delta, sold_delta, reference, created_at)
    select (a->>0)::uuid, (a->>1)::uuid, 'RESERVE', -(a->>2)::bigint, (a->>2)::bigint, 0, g->>'order_id', (g->>'now')::timestamptz
      from jsonb_array_elements(grants) g, jsonb_array_elements(g->'alloc') a;

    insert into outbox (id, subject, event_type, payload, correlation_id, trace_context)
    select (g->'event'->>'id')::uuid, g->'event'->>'subject', g->'event'->>'type',
           -- ReservationReserved { metadata = 1; reservation = 2 }: the service's Reservation + its priced
           -- items (field 3) + its allocation lines (field 8).
           larder_pb_bytes(1, decode(g->'event'->>'metadata', 'base64'))
             || larder_pb_bytes(2, decode(g->'event'->>'reservation', 'base64') || (
             select string_agg(larder_pb_bytes(3, larder_pb_reservation_item(x->>'p', (x->>'q')::bigint,
                                 (prod->(x->>'p')->>'price')::bigint, prod->(x->>'p')->>'cur')), ''::bytea order by o)
               from jsonb_array_elements(g->'items') with ordinality as t(x, o)) || (
             select string_agg(larder_pb_bytes(8, larder_pb_allocation_line(a->>0, a->>1, (a->>2)::bigint)), ''::bytea order by o)
               from jsonb_array_elements(g->'alloc') with ordinality as t(a, o))),
           g->'event'->>'cid', g->'event'->'tc'
      from jsonb_array_elements(grants) g
    union all
    -- StockLow { metadata = 1; product_id = 2; available = 3; low_stock_threshold = 4; location_id = 5 }: the
    -- reserved event's metadata with its own event_id appended (a repeated scalar field: the last one wins).
    select (l->>'id')::uuid, g->'low'->>'subject', g->'low'->>'type',
           larder_pb_bytes(1, decode(g->'event'->>'metadata', 'base64') || larder_pb_bytes(1, convert_to(l->>'id', 'UTF8')))
             || larder_pb_bytes(2, convert_to(l->>'p', 'UTF8')) || larder_pb_uint(3, (l->>'after')::bigint)
             || larder_pb_uint(4, (l->>'t')::bigint) || larder_pb_bytes(5, convert_to(l->>'l', 'UTF8')),
           g->'event'->>'cid', g->'event'->'tc'
      from jsonb_array_elements(grants) g, jsonb_array_elements(g->'lows') l;

    -- 5. One conditional UPDATE per (product, location) for the whole batch, on the rows locked in step 2.
    update stock_levels s
       set available = s.available - d.q, reserved = s.reserved + d.q, updated_at = d.at
      from (select (a->>0)::uuid as p, (a->>1)::uuid as l, sum((a->>2)::bigint) as q, max((g->>'now')::timestamptz) as at
              from jsonb_array_elements(grants) g, jsonb_array_elements(g->'alloc') a group by 1, 2) d
     where s.product_id = any(array(select (a->>0)::uuid from jsonb_array_elements(grants) g, jsonb_array_elements(g->'alloc') a))
       and s.product_id = d.p and s.location_id = d.l and s.available - s.safety_stock >= d.q;
    get diagnostics moved = row_count;
    if moved <> (select count(distinct (a->>0, a->>1)) from jsonb_array_elements(grants) g, jsonb_array_elements(g->'alloc') a) then
      raise exception 'reserve_stock_batch: a stock row changed under its lock';
    end if;
    return verdicts;
  end $$;
