import type { Knex } from 'knex';
import { alreadyExists, AppError, failedPrecondition, notFound } from '../../../../libs/errors/app-error.js';
import { appendToOutbox, type OutboxEvent } from '../../../../libs/events/outbox.js';
import { requestHash } from '../../../../libs/idempotency/request-hash.js';
import { findProductsByIds } from '../../data/products.js';
import { findReservation, insertReservation } from '../../data/reservations.js';
import { reserveUnits } from '../../data/stock-levels.js';
import { inTransaction, type InventoryDeps, type RequestContext } from '../deps.js';
import { reservationReserved, stockLowIfCrossed } from '../events.js';
import type { ReservationItemRecord, ReservationRecord } from '../types.js';

export interface ReserveStockCommand {
  orderId: string;
  /** Validated: at least one, each product once, quantities positive. */
  items: { productId: string; quantity: number }[];
  ttlMs?: number;
}

/**
 * Reserves every item or none, in one transaction:
 * price the items from the catalog, then claim the order id together with the
 * items, ledger rows and event (one statement; a repeat returns the first
 * result), and only then take the hot stock rows, in product-id order so
 * concurrent multi-item reservations cannot deadlock. The row locks are held
 * from the first stock update to the commit, nothing else.
 */
export async function reserveStock(deps: InventoryDeps, ctx: RequestContext, command: ReserveStockCommand): Promise<ReservationRecord> {
  const now = deps.clock.now();
  const items = [...command.items].sort((a, b) => (a.productId < b.productId ? -1 : 1));
  const hash = requestHash(items.map((i) => [i.productId, i.quantity]));
  const expiresAt = new Date(now.getTime() + (command.ttlMs ?? deps.defaultReservationTtlMs));

  let priced: ReservationItemRecord[];
  try {
    priced = await priceItems(deps.db, items);
  } catch (error) {
    // A repeat of a reservation whose product has since been deleted still replays.
    if (error instanceof AppError && (await findReservation(deps.db, command.orderId))) return replay(deps.db, command.orderId, hash);
    throw error;
  }
  const reservation: ReservationRecord = {
    orderId: command.orderId,
    status: 'RESERVED',
    items: priced,
    expiresAt,
    createdAt: now,
    updatedAt: now,
  };
  const eventCtx = { correlationId: ctx.correlationId, now };

  return inTransaction(deps, async (trx) => {
    const event = reservationReserved(eventCtx, reservation);
    if (!(await insertReservation(trx, { orderId: command.orderId, requestHash: hash, expiresAt, items: priced, event }, now))) {
      return replay(trx, command.orderId, hash);
    }
    const lowStock: OutboxEvent[] = [];
    for (const item of items) {
      const change = await reserveUnits(trx, item.productId, item.quantity, now);
      if (!change.ok) {
        throw failedPrecondition(
          `insufficient stock for product ${item.productId}: requested ${item.quantity}, available ${change.available ?? 0}`,
          {
            reason: 'INSUFFICIENT_STOCK',
            metadata: { product_id: item.productId, requested: String(item.quantity), available: String(change.available ?? 0) },
          },
        );
      }
      lowStock.push(...stockLowIfCrossed(eventCtx, change.stock, change.stock.available + item.quantity));
    }
    await appendToOutbox(trx, lowStock);
    return reservation;
  });
}

/** The order already has a reservation: return it if it is the same request, refuse if not. */
async function replay(db: Knex | Knex.Transaction, orderId: string, hash: string): Promise<ReservationRecord> {
  const existing = (await findReservation(db, orderId))!;
  if (existing.requestHash !== hash) {
    throw alreadyExists(`order ${orderId} already has a reservation with different items`, {
      reason: 'IDEMPOTENCY_KEY_REUSED',
      field: 'order_id',
      metadata: { order_id: orderId },
    });
  }
  return existing;
}

/** Prices come from the catalog at reservation time, never from the caller. */
async function priceItems(db: Knex, items: ReserveStockCommand['items']): Promise<ReservationItemRecord[]> {
  const products = await findProductsByIds(
    db,
    items.map((i) => i.productId),
  );
  return items.map((item) => {
    const product = products.get(item.productId);
    if (!product) throw notFound('product', item.productId);
    if (product.deletedAt) {
      throw failedPrecondition(`product ${item.productId} is deleted and cannot be reserved`, {
        reason: 'PRODUCT_DELETED',
        metadata: { product_id: item.productId },
      });
    }
    return { productId: item.productId, quantity: item.quantity, unitPrice: product.price };
  });
}
