import type { Knex } from 'knex';
import type { Db } from '#libs/db/types.js';
import { prepared } from '#libs/db/prepared.js';
import { outboxRow } from '#libs/events/outbox.js';
import type { LoggedChange, NewOrder, OrderClaim } from '../domain/order-write-types.js';
import type { Fulfilment } from '../domain/types.js';
import { fulfilmentColumn } from './fulfilment-columns.js';

/** INSERT … ON CONFLICT DO NOTHING of the order row: the idempotency key is claimed together with its effect. */
export function claimInsert(db: Db, claim: OrderClaim): Knex.QueryBuilder {
  const { order, now } = claim;
  return db('orders')
    .insert({
      id: order.id,
      customer_id: order.customerId,
      status: 'PENDING',
      idempotency_key: order.idempotencyKey,
      request_hash: order.requestHash,
      payment_token: order.paymentToken,
      correlation_id: order.correlationId ?? null,
      shipping_address: order.shippingAddress ? JSON.stringify(order.shippingAddress) : null,
      fulfilment: fulfilmentColumn(order.fulfilment, true),
      next_attempt_at: claim.dueAt,
      lease_until: claim.lease?.until ?? null,
      lease_token: claim.lease?.token ?? null,
      claimed_at: claim.lease ? now : null,
      created_at: now,
      updated_at: now,
    })
    .onConflict(['customer_id', 'idempotency_key'])
    .ignore()
    .returning('id');
}

/**
 * Writes a placed order's items, first log entry and event in ONE statement,
 * conditional on `claimed` (the claim's INSERT, or the id of an order this
 * transaction already claimed). Returns whether the order was claimed: false
 * means the key was taken and nothing was written.
 */
export async function writePlacedOrder(
  db: Db,
  claimed: Knex.QueryBuilder | { orderId: string },
  items: readonly { productId: string; quantity: number }[],
  logged: LoggedChange,
): Promise<boolean> {
  const source = 'orderId' in claimed ? db.select(db.raw('?::uuid as id', [claimed.orderId])) : claimed;
  const lines = JSON.stringify(items.map((i) => ({ product_id: i.productId, quantity: i.quantity })));
  const { entry } = logged;
  const event = outboxRow(logged.event);
  const { rows } = await prepared(
    db.raw<{ rows: { claimed: number }[] }>(
      `with claim as (?),
     items as (
       insert into order_items (order_id, product_id, quantity)
       select claim.id, l.product_id, l.quantity from claim, jsonb_to_recordset(?::jsonb) as l(product_id uuid, quantity int)
     ),
     logged as (
       insert into order_events (order_id, sequence, from_status, to_status, reason, error, correlation_id, created_at)
       select claim.id, 1, null, ?::text, ?::text, null, ?::text, ?::timestamptz from claim
     ),
     published as (
       insert into outbox (id, subject, event_type, payload, correlation_id, trace_context)
       select ?::uuid, ?::text, ?::text, ?::bytea, ?::text, ?::jsonb from claim
     )
     select count(*)::int as claimed from claim`,
      [
        source,
        lines,
        entry.toStatus,
        entry.reason,
        entry.correlationId ?? null,
        entry.createdAt,
        event.id,
        event.subject,
        event.event_type,
        event.payload,
        event.correlation_id,
        event.trace_context,
      ],
    ),
  );
  return rows[0]!.claimed === 1;
}

/**
 * Gives an order claimed in this transaction the fulfilment it took from the
 * cart (Checkout naming none): a delivery's address becomes its shipping address.
 */
export async function setClaimedFulfilment(trx: Knex.Transaction, orderId: string, fulfilment: Fulfilment): Promise<void> {
  await trx('orders')
    .update({
      fulfilment: fulfilmentColumn(fulfilment, true),
      ...(fulfilment.kind === 'delivery' ? { shipping_address: JSON.stringify(fulfilment.address) } : {}),
    })
    .where({ id: orderId });
}

/**
 * Claims the (customer, idempotency key) pair by inserting the order:
 * INSERT … ON CONFLICT DO NOTHING in the caller's transaction. A concurrent
 * claim of the same key waits until the first commits (then gets false) or
 * rolls back (then gets true).
 */
export async function claimOrderKey(trx: Knex.Transaction, order: NewOrder, now: Date, dueAt: Date): Promise<boolean> {
  return (await claimInsert(trx, { order, now, dueAt })).length === 1;
}
