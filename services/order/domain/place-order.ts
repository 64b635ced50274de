import { alreadyExists, failedPrecondition } from '../../../libs/errors/app-error.js';
import { appendToOutbox } from '../../../libs/events/outbox.js';
import { requestHash } from '../../../libs/idempotency/request-hash.js';
import { uuidv7 } from '../../../libs/ids/uuid.js';
import { clearCartItems, lockCartItems } from '../data/carts.js';
import { appendOrderEvent } from '../data/order-events.js';
import { claimOrder, claimOrderKey, findOrder, findOrderByKey, insertOrderItems } from '../data/orders.js';
import { advanceOrder } from '../saga/advance-order.js';
import { inTransaction, type OrderDeps, type RequestContext } from './deps.js';
import { orderStatusEvent } from './events.js';
import type { OrderRecord, ShippingAddress } from './types.js';

/**
 * A new order is due for the worker only after this grace, so the checkout's own
 * inline step gets to reserve first and the caller learns RESERVED or
 * AWAITING_STOCK; if that step never runs (crash), the worker takes over then.
 */
const INLINE_GRACE_MS = 5_000;

export interface PlaceOrderCommand {
  customerId: string;
  idempotencyKey: string;
  paymentToken: string;
  shippingAddress?: ShippingAddress;
  /** The cart's content (Checkout), or explicit items (CreateOrder). */
  source: { kind: 'cart' } | { kind: 'items'; items: { productId: string; quantity: number }[] };
}

/**
 * Checkout and CreateOrder: claim the idempotency key, take the items (locking
 * and clearing the cart in the same transaction, so a cart is ordered once),
 * record the order with its first log entry and event; then try to reserve its
 * stock at once. A repeated key returns the order it made.
 */
export async function placeOrder(deps: OrderDeps, ctx: RequestContext, command: PlaceOrderCommand): Promise<OrderRecord> {
  const now = deps.clock.now();
  const items =
    command.source.kind === 'items' ? [...command.source.items].sort((a, b) => (a.productId < b.productId ? -1 : 1)) : undefined;
  const hash = requestHash([command.source.kind, items, command.paymentToken, command.shippingAddress ?? null]);
  const order = {
    id: uuidv7(now.getTime()),
    customerId: command.customerId,
    idempotencyKey: command.idempotencyKey,
    requestHash: hash,
    paymentToken: command.paymentToken,
    shippingAddress: command.shippingAddress,
    correlationId: ctx.correlationId,
  };

  const placed = await inTransaction(deps, async (trx) => {
    if (!(await claimOrderKey(trx, order, now, new Date(now.getTime() + INLINE_GRACE_MS)))) {
      const existing = (await findOrderByKey(trx, command.customerId, command.idempotencyKey))!;
      if (existing.requestHash !== hash) {
        throw alreadyExists(`idempotency_key "${command.idempotencyKey}" was already used for a different order`, {
          reason: 'IDEMPOTENCY_KEY_REUSED',
          field: 'idempotency_key',
          metadata: { order_id: existing.id },
        });
      }
      return { order: existing, created: false };
    }
    let lines = items;
    if (!lines) {
      lines = (await lockCartItems(trx, command.customerId)).items;
      if (lines.length === 0) throw failedPrecondition(`the cart of customer ${command.customerId} is empty`, { reason: 'CART_EMPTY' });
      await clearCartItems(trx, command.customerId, now);
    }
    await insertOrderItems(trx, order.id, lines);
    const created = (await findOrder(trx, order.id))!;
    await appendOrderEvent(trx, {
      orderId: order.id,
      toStatus: 'PENDING',
      reason: command.source.kind === 'cart' ? 'checked out' : 'order created',
      correlationId: ctx.correlationId,
      createdAt: now,
    });
    await appendToOutbox(trx, [orderStatusEvent(created, { correlationId: ctx.correlationId, now })]);
    return { order: created, created: true };
  });
  if (!placed.created) return placed.order;
  deps.observer?.transition(undefined, 'PENDING');

  // Reserve inline so the caller learns at once whether the stock is there;
  // if a worker got to it first (or inventory is down) the saga carries on.
  const claimed = await claimOrder(deps.db, placed.order.id, deps.clock.now(), deps.saga.leaseMs);
  // The order exists whatever this attempt meets: a failed inline step is not a
  // failed checkout (its lease lapses and the worker retries).
  const result = claimed ? await advanceOrder(deps, claimed, ctx.correlationId).catch(() => placed.order) : placed.order;
  deps.wakeWorker();
  return result;
}
