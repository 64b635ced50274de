import type { Knex } from 'knex';
import { prepared } from '#libs/db/prepared.js';
import { outboxRow } from '#libs/events/outbox.js';
import type { LoggedChange, OrderPatch } from '../domain/order-write-types.js';
import { patchColumns } from './orders.js';

/**
 * A saga step's write in ONE statement, in autocommit: the guarded update of
 * the order, its item prices, its order-log entry and its outbox event, each
 * conditional on the update (data-modifying CTEs), so all land or none do —
 * one round trip where a transaction took seven.
 *
 * The guard is the step's lease AND the version it read: the caller built the
 * event from that version plus the patch, so the event is exact only if no one
 * else changed the order since. A miss (false) means either the lease is lost
 * or someone (CancelOrder, an expiry event) wrote in between; the caller reads
 * the order again to tell which. The row lock of the update serialises log
 * appends per order, so sequences stay gap-free.
 */
export async function writeStepChange(
  db: Knex,
  orderId: string,
  guard: { leaseToken: string; version: number },
  patch: OrderPatch,
  now: Date,
  logged?: LoggedChange,
): Promise<boolean> {
  const update = db('orders')
    .update(patchColumns(db, patch, now))
    .where({ id: orderId, lease_token: guard.leaseToken, version: guard.version })
    .returning('id');
  const prices = JSON.stringify(
    (patch.itemPrices ?? []).map((i) => ({
      product_id: i.productId,
      unit_price_minor: i.unitPrice.minorUnits,
      currency_code: i.unitPrice.currencyCode,
    })),
  );
  const entry = logged?.entry;
  const event = logged ? outboxRow(logged.event) : undefined;
  const { rows } = await prepared(
    db.raw<{ rows: { changed: number }[] }>(
      `with changed as (?),
     priced as (
       update order_items i set unit_price_minor = p.unit_price_minor, currency_code = p.currency_code
       from jsonb_to_recordset(?::jsonb) as p(product_id uuid, unit_price_minor bigint, currency_code text), changed
       where i.order_id = changed.id and i.product_id = p.product_id
     ),
     logged as (
       insert into order_events (order_id, sequence, from_status, to_status, reason, error, correlation_id, created_at)
       select changed.id, (select coalesce(max(e.sequence), 0) + 1 from order_events e where e.order_id = changed.id),
         ?::text, ?::text, ?::text, ?::text, ?::text, ?::timestamptz
       from changed where ?::boolean
     ),
     published as (
       insert into outbox (id, subject, event_type, payload, correlation_id, trace_context)
       select ?::uuid, ?::text, ?::text, ?::bytea, ?::text, ?::jsonb from changed where ?::boolean
     )
     select count(*)::int as changed from changed`,
      [
        update,
        prices,
        entry?.fromStatus ?? null,
        entry?.toStatus ?? null,
        entry?.reason ?? null,
        entry?.error ?? null,
        entry?.correlationId ?? null,
        entry?.createdAt ?? null,
        entry !== undefined,
        event?.id ?? null,
        event?.subject ?? null,
        event?.event_type ?? null,
        event?.payload ?? null,
        event?.correlation_id ?? null,
        event?.trace_context ?? null,
        event !== undefined,
      ],
    ),
  );
  return rows[0]!.changed === 1;
}
