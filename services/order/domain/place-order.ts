import { randomUUID } from 'node:crypto';
import { alreadyExists, failedPrecondition, invalid } from '#libs/errors/app-error.js';
import { requestHash } from '#libs/idempotency/request-hash.js';
import { uuidv7 } from '#libs/ids/uuid.js';
import { clearCartItems, lockCartItems } from '../data/carts.js';
import { findOrderByKey } from '../data/orders.js';
import { claimInsert, setClaimedFulfilment, writePlacedOrder } from '../data/placed-order.js';
import { inTransaction } from '#libs/db/in-transaction.js';
import type { RequestContext } from '#libs/context/request-context.js';
import type { Logger } from '#libs/logging/logger.js';
import { type OrderDeps } from './deps.js';
import type { LoggedChange, OrderClaim } from './order-write-types.js';
import type { Fulfilment, OrderRecord, ShippingAddress } from './types.js';

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
  /** Delivery or pickup, as the request names it; a Checkout naming none takes the cart's. */
  fulfilment?: Fulfilment;
  /** The cart's content (Checkout), or explicit items (CreateOrder). */
  source: { kind: 'cart' } | { kind: 'items'; items: { productId: string; quantity: number }[] };
}

/** The request placing the order: its correlation id, and where a failure it survives is logged. */
export interface PlaceOrderContext extends RequestContext {
  logger: Logger;
}

/**
 * Checkout and CreateOrder: claim the idempotency key, take the items (locking
 * and clearing the cart in the same transaction, so a cart is ordered once),
 * record the order with its first log entry and event; then try to reserve its
 * stock at once. A repeated key returns the order it made.
 */
export async function placeOrder(deps: OrderDeps, ctx: PlaceOrderContext, command: PlaceOrderCommand): Promise<OrderRecord> {
  const now = deps.clock.now();
  const items = command.source.kind === 'items' ? byProduct(command.source.items) : undefined;
  // The request's fulfilment joins the hash only when named, so a request made before
  // fulfilments existed hashes as it did then (its retry still finds its order).
  const named = command.fulfilment ? [command.fulfilment] : [];
  const hash = requestHash([command.source.kind, items, command.paymentToken, command.shippingAddress ?? null, ...named]);
  const lease = { token: randomUUID(), until: new Date(now.getTime() + deps.saga.leaseMs) };
  const claim: OrderClaim = {
    order: {
      id: uuidv7(now.getTime()),
      customerId: command.customerId,
      idempotencyKey: command.idempotencyKey,
      requestHash: hash,
      paymentToken: command.paymentToken,
      shippingAddress: deliveredTo(command.fulfilment) ?? command.shippingAddress,
      fulfilment: command.fulfilment,
      correlationId: ctx.correlationId,
    },
    now,
    dueAt: new Date(now.getTime() + INLINE_GRACE_MS),
    // Claimed for this request's own inline step from the start: no second claim round trip.
    lease,
  };
  const reason = command.source.kind === 'cart' ? 'checked out' : 'order created';
  const placing = (lines: readonly { productId: string; quantity: number }[], fromCart?: Fulfilment) => {
    const order = newOrderRecord(claim, lines, fromCart);
    const logged: LoggedChange = {
      entry: { orderId: order.id, toStatus: 'PENDING', reason, correlationId: ctx.correlationId, createdAt: now },
      event: deps.events.orderStatus(order, { correlationId: ctx.correlationId, now }),
    };
    return { order, logged };
  };

  let created: OrderRecord | undefined;
  if (items) {
    // Explicit items: the claim, items, log entry and event in one statement.
    const { order, logged } = placing(items);
    if (await writePlacedOrder(deps.db, claimInsert(deps.db, claim), items, logged)) {
      deps.afterCommit();
      created = order;
    }
  } else {
    // The cart: lock and clear it in the claim's transaction, so a cart is ordered once.
    created = await inTransaction(deps, async (trx) => {
      if ((await claimInsert(trx, claim)).length === 0) return undefined;
      const cart = await lockCartItems(trx, command.customerId);
      const lines = cart.items;
      if (lines.length === 0) throw failedPrecondition(`the cart of customer ${command.customerId} is empty`, { reason: 'CART_EMPTY' });
      const fromCart = command.fulfilment ? undefined : cart.fulfilment;
      if (fromCart?.kind === 'delivery' && command.shippingAddress) throw deliveryWithAddress('the cart');
      await clearCartItems(trx, command.customerId, now);
      if (fromCart) await setClaimedFulfilment(trx, claim.order.id, fromCart);
      const { order, logged } = placing(lines, fromCart);
      await writePlacedOrder(trx, { orderId: order.id }, lines, logged);
      return order;
    });
  }
  if (!created) return repeatedKey(deps, command, hash);
  deps.observer?.transition(undefined, 'PENDING');

  // Reserve inline so the caller learns at once whether the stock is there; the
  // payment then goes on in the background under the same lease. A failed inline
  // step is not a failed checkout: the order exists, its lease lapses and the
  // worker carries on. The failure is still logged and counted, never swallowed.
  return deps.advance({ order: created, leaseToken: lease.token }, ctx.correlationId, { detachPayment: true }).catch((error: unknown) => {
    ctx.logger.error(
      { err: error, orderId: created.id, correlationId: ctx.correlationId },
      'inline saga step failed; the worker takes the order up when its lease lapses',
    );
    deps.observer?.inlineStepFailed();
    return created;
  });
}

/** The key was claimed before: the order it made, if this is the same request. */
async function repeatedKey(deps: OrderDeps, command: PlaceOrderCommand, hash: string): Promise<OrderRecord> {
  const existing = (await findOrderByKey(deps.db, command.customerId, command.idempotencyKey))!;
  if (existing.requestHash !== hash) {
    throw alreadyExists(`idempotency_key "${command.idempotencyKey}" was already used for a different order`, {
      reason: 'IDEMPOTENCY_KEY_REUSED',
      field: 'idempotency_key',
      metadata: { order_id: existing.id },
    });
  }
  return existing;
}

/** A delivery's address, which is the order's shipping address. */
const deliveredTo = (fulfilment: Fulfilment | undefined): ShippingAddress | undefined =>
  fulfilment?.kind === 'delivery' ? fulfilment.address : undefined;

/**
 * A delivery (named by the request, or by the cart when the request names no
 * fulfilment) brings the order's address, so the request's shipping_address
 * must be unset beside it.
 */
export const deliveryWithAddress = (whose = 'the request') =>
  invalid('shipping_address', `must be unset when ${whose} names a delivery: the delivery's address is the order's shipping address`);

const byProduct = <T extends { productId: string }>(lines: readonly T[]): T[] =>
  [...lines].sort((a, b) => (a.productId < b.productId ? -1 : 1));

/** The order exactly as its claim writes it (what the created event announces). */
function newOrderRecord(claim: OrderClaim, lines: readonly { productId: string; quantity: number }[], fromCart?: Fulfilment): OrderRecord {
  const { order, now } = claim;
  const fulfilment = order.fulfilment ?? fromCart;
  return {
    id: order.id,
    customerId: order.customerId,
    status: 'PENDING',
    items: byProduct(lines).map((l) => ({ productId: l.productId, quantity: l.quantity })),
    paymentToken: order.paymentToken,
    correlationId: order.correlationId,
    paymentStatus: 'NOT_STARTED',
    shippingAddress: deliveredTo(fulfilment) ?? order.shippingAddress,
    ...(fulfilment ? { fulfilment } : {}),
    attempts: 0,
    paymentAttempts: 0,
    cancelRequested: false,
    reservationExpired: false,
    idempotencyKey: order.idempotencyKey,
    requestHash: order.requestHash,
    nextAttemptAt: claim.dueAt,
    version: 1,
    createdAt: now,
    updatedAt: now,
  };
}
