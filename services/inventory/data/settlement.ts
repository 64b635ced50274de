import type { Db } from '#libs/db/types.js';
import { prepared } from '#libs/db/prepared.js';
import { outboxRow } from '#libs/events/outbox.js';
import type { SettlementMember } from '../domain/reservation-types.js';

/**
 * Settles RESERVED reservations in ONE autocommit statement: per member its
 * status, a ledger row per allocation line and its event, and per (product,
 * location) ONE stock UPDATE for all of the batch's allocation lines (reserved down, sold or available up),
 * each conditional on the guarded status changes (data-modifying CTEs).
 * Returns, per member, whether it moved.
 *
 * The guard is `status = 'RESERVED'`: of a commit, a release and the sweeper
 * racing for one reservation exactly one moves it; the others get false and
 * decide again on what they then read. A member whose order id came earlier in
 * the batch gets false too (it is settled once; its caller then reads the
 * result). Stock rows are locked in (product, location) order (the ordered FOR UPDATE
 * below), as every other stock writer does, so concurrent writers cannot
 * deadlock. If a member's stock row is missing nothing at all is written and
 * it throws (the coalescer then runs each member alone, so only that one
 * fails): the ledger must never record a move the stock did not make.
 *
 * Autocommit for commit and release (coalesced: concurrent commits of one hot
 * product write its stock row once); the sweeper runs it for one reservation
 * in the transaction that holds the expired row.
 */
export async function settleBatch(db: Db, members: readonly SettlementMember[]): Promise<boolean[]> {
  const seen = new Set<string>();
  const unique = members.filter((m) => !seen.has(m.reservation.orderId) && seen.add(m.reservation.orderId));
  const settleable = JSON.stringify(
    unique.map((m) => {
      const row = outboxRow(m.event);
      return {
        order_id: m.reservation.orderId,
        status: m.status,
        release_reason: m.reservation.releaseReason ?? null,
        at: m.now.toISOString(),
        event_id: row.id,
        subject: row.subject,
        event_type: row.event_type,
        payload: row.payload.toString('base64'),
        correlation_id: row.correlation_id,
        trace_context: m.event.traceContext ?? null,
      };
    }),
  );
  const lines = JSON.stringify(
    unique.flatMap((m) =>
      m.reservation.allocations.map((a) => ({
        order_id: m.reservation.orderId,
        product_id: a.productId,
        location_id: a.locationId,
        quantity: a.quantity,
      })),
    ),
  );
  const { rows } = await prepared(
    db.raw<{ rows: { settled: string[]; missing: number }[] }>(
      `with members as (
         select * from jsonb_to_recordset(?::jsonb) as m(order_id uuid, status text, release_reason text, at timestamptz,
                                                         event_id uuid, subject text, event_type text, payload text, correlation_id text,
                                                         trace_context jsonb)
       ),
       wanted as (
         select * from jsonb_to_recordset(?::jsonb) as l(order_id uuid, product_id uuid, location_id uuid, quantity int)
       ),
       missing as (
         -- A subplan per item (an index probe), not an anti join: see settled.
         select count(*)::int as n from wanted w
         where (select s.product_id from stock_levels s where s.product_id = w.product_id and s.location_id = w.location_id) is null
       ),
       settled as (
         update reservations r set status = m.status, release_reason = m.release_reason, updated_at = m.at
         from members m
         -- "= any(array(…))" is an index condition: joined on the members alone, the planner
         -- takes the function's estimate of 100 rows and hashes them against a whole-table scan.
         where r.order_id = any(array(select order_id from members)) and r.order_id = m.order_id
           and r.status = 'RESERVED' and (select n from missing) = 0
         returning r.order_id, r.status
       ),
       lines as (
         select w.order_id, w.product_id, w.location_id, w.quantity, s.status, m.at
         from settled s join wanted w on w.order_id = s.order_id join members m on m.order_id = s.order_id
       ),
       locked as (
         select s.product_id, s.location_id from stock_levels s
         where s.product_id = any(array(select product_id from lines))
           and (s.product_id, s.location_id) in (select product_id, location_id from lines)
         order by s.product_id, s.location_id for update
       ),
       moved as (
         update stock_levels s
         set reserved = s.reserved - d.quantity, sold = s.sold + d.sold, available = s.available + d.back, updated_at = d.at
         from locked, (
           select product_id, location_id, sum(quantity) as quantity, max(at) as at,
                  sum(case when status = 'COMMITTED' then quantity else 0 end) as sold,
                  sum(case when status = 'COMMITTED' then 0 else quantity end) as back
           from lines group by product_id, location_id
         ) d
         where s.product_id = locked.product_id and s.location_id = locked.location_id
           and d.product_id = locked.product_id and d.location_id = locked.location_id
       ),
       ledger as (
         insert into stock_movements (product_id, location_id, kind, available_delta, reserved_delta, sold_delta, reference, created_at)
         select l.product_id, l.location_id, case l.status when 'COMMITTED' then 'COMMIT' when 'RELEASED' then 'RELEASE' else 'EXPIRE' end,
                case when l.status = 'COMMITTED' then 0 else l.quantity end, -l.quantity,
                case when l.status = 'COMMITTED' then l.quantity else 0 end, l.order_id::text, l.at
         from lines l
       ),
       published as (
         insert into outbox (id, subject, event_type, payload, correlation_id, trace_context)
         select m.event_id, m.subject, m.event_type, decode(m.payload, 'base64'), m.correlation_id, m.trace_context
         from members m join settled s on s.order_id = m.order_id
       )
       select coalesce((select json_agg(order_id) from settled), '[]'::json) as settled, (select n from missing) as missing`,
      [settleable, lines],
    ),
  );
  const { settled, missing } = rows[0]!;
  if (missing > 0) {
    const ids = unique.map((m) => m.reservation.orderId).join(', ');
    throw new Error(`settling reservation ${ids}: ${missing} of the allocation lines have no stock row`);
  }
  const moved = new Set(settled);
  const first = new Set<SettlementMember>(unique);
  return members.map((m) => first.has(m) && moved.has(m.reservation.orderId));
}

/** One reservation alone (the sweeper, in its transaction; a caller without a coalescer). */
export async function settleInOneStatement(db: Db, member: SettlementMember): Promise<boolean> {
  return (await settleBatch(db, [member]))[0]!;
}
