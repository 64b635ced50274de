import type { Knex } from 'knex';
import { prepared } from '../../../libs/db/prepared.js';
import { outboxRow, type OutboxEvent } from '../../../libs/events/outbox.js';
import type { ReservationRecord } from '../domain/types.js';

/** How a settled reservation's units move: to sold (commit) or back to available (release, expiry). */
export type SettledStatus = 'COMMITTED' | 'RELEASED' | 'EXPIRED';

const MOVEMENT: Record<SettledStatus, string> = { COMMITTED: 'COMMIT', RELEASED: 'RELEASE', EXPIRED: 'EXPIRE' };

type Db = Knex | Knex.Transaction;

/**
 * Settles a RESERVED reservation in ONE autocommit statement: its status, a
 * ledger row and the stock move per item, and its event, each conditional on
 * the guarded status change (data-modifying CTEs) — all or nothing, in one
 * round trip where a transaction took eight.
 *
 * The guard is `status = 'RESERVED'`: of a commit, a release and the sweeper
 * racing for one reservation exactly one moves it; the others get false and
 * decide again on what they then read. Stock rows are locked in product-id
 * order (the ordered FOR UPDATE below), as every other stock writer does, so
 * concurrent multi-item writers cannot deadlock. A reservation whose stock
 * row is missing is not settled at all (nothing written) and throws: the
 * ledger must never record a move the stock did not make.
 *
 * Autocommit for commit and release; the sweeper runs it in the transaction
 * that holds the expired reservation's row.
 */
export async function settleInOneStatement(
  db: Db,
  reservation: ReservationRecord,
  status: SettledStatus,
  event: OutboxEvent,
  now: Date,
): Promise<boolean> {
  const toSold = status === 'COMMITTED';
  const lines = JSON.stringify(reservation.items.map((i) => ({ product_id: i.productId, quantity: i.quantity })));
  const row = outboxRow(event);
  const { rows } = await prepared(
    db.raw<{ rows: { settled: number; missing: number }[] }>(
      `with wanted as (
       select l.product_id, l.quantity from jsonb_to_recordset(?::jsonb) as l(product_id uuid, quantity int)
     ),
     missing as (
       select count(*)::int as n from wanted w where not exists (select 1 from stock_levels s where s.product_id = w.product_id)
     ),
     settled as (
       update reservations set status = ?, release_reason = ?, updated_at = ?
       where order_id = ? and status = 'RESERVED' and (select n from missing) = 0
       returning order_id
     ),
     lines as (
       select w.product_id, w.quantity from settled, wanted w
     ),
     locked as (
       select s.product_id from stock_levels s where s.product_id in (select product_id from lines)
       order by s.product_id for update
     ),
     moved as (
       update stock_levels s
       set reserved = s.reserved - l.quantity,
           sold = s.sold + case when ?::boolean then l.quantity else 0 end,
           available = s.available + case when ?::boolean then 0 else l.quantity end,
           updated_at = ?
       from locked, lines l
       where s.product_id = locked.product_id and l.product_id = locked.product_id
     ),
     ledger as (
       insert into stock_movements (product_id, kind, available_delta, reserved_delta, sold_delta, reference, created_at)
       select l.product_id, ?, case when ?::boolean then 0 else l.quantity end, -l.quantity,
              case when ?::boolean then l.quantity else 0 end, ?, ?::timestamptz
       from lines l
     ),
     published as (
       insert into outbox (id, subject, event_type, payload, correlation_id)
       select ?::uuid, ?::text, ?::text, ?::bytea, ?::text from settled
     )
     select (select count(*)::int from settled) as settled, (select n from missing) as missing`,
      [
        lines,
        status,
        reservation.releaseReason ?? null,
        now,
        reservation.orderId,
        toSold,
        toSold,
        now,
        MOVEMENT[status],
        toSold,
        toSold,
        reservation.orderId,
        now,
        row.id,
        row.subject,
        row.event_type,
        row.payload,
        row.correlation_id,
      ],
    ),
  );
  const { settled, missing } = rows[0]!;
  if (missing > 0) throw new Error(`reservation ${reservation.orderId}: ${missing} of its products have no stock row`);
  return settled === 1;
}
