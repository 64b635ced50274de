import type { Knex } from 'knex';
import { alreadyExists, failedPrecondition, notFound } from '../../../../libs/errors/app-error.js';
import { appendToOutbox, type OutboxEvent } from '../../../../libs/events/outbox.js';
import { findProductsByIds } from '../../data/products.js';
import { claimReservation, findReservation, insertReservationItems } from '../../data/reservations.js';
import { recordMovements, reserveUnits } from '../../data/stock-levels.js';
import { inTransaction, type InventoryDeps, type RequestContext } from '../deps.js';
import { reservationReserved, stockLowIfCrossed } from '../events.js';
import { requestHash } from '../../../../libs/idempotency/request-hash.js';
import type { ReservationItemRecord, ReservationRecord } from '../types.js';

export interface ReserveStockCommand {
  orderId: string;
  /** Validated: at least one, each product once, quantities positive. */
  items: { productId: string; quantity: number }[];
  ttlMs?: number;
}

/**
 * Reserves every item or none, in one transaction:
 * claim the order id (a repeat returns the first result), price the items,
 * write items, ledger and event, and only then take the hot stock rows,
 * in product-id order so concurrent multi-item reservations cannot deadlock.
 */
export async function reserveStock(deps: InventoryDeps, ctx: RequestContext, command: ReserveStockCommand): Promise<ReservationRecord> {
  const now = deps.clock.now();
  const items = [...command.items].sort((a, b) => (a.productId < b.productId ? -1 : 1));
  const hash = requestHash(items.map((i) => [i.productId, i.quantity]));
  const expiresAt = new Date(now.getTime() + (command.ttlMs ?? deps.defaultReservationTtlMs));

  return inTransaction(deps, async (trx) => {
    if (!(await claimReservation(trx, { orderId: command.orderId, requestHash: hash, expiresAt }, now))) {
      return replay(trx, command.orderId, hash);
    }
    const priced = await priceItems(trx, items);
    const reservation: ReservationRecord = {
      orderId: command.orderId,
      status: 'RESERVED',
      items: priced,
      expiresAt,
      createdAt: now,
      updatedAt: now,
    };
    await insertReservationItems(trx, command.orderId, priced);
    await recordMovements(
      trx,
      items.map((i) => ({
        productId: i.productId,
        kind: 'RESERVE',
        availableDelta: -i.quantity,
        reservedDelta: i.quantity,
        soldDelta: 0,
        reference: command.orderId,
      })),
      now,
    );
    await appendToOutbox(trx, [reservationReserved({ correlationId: ctx.correlationId, now }, reservation)]);

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
      lowStock.push(...stockLowIfCrossed({ correlationId: ctx.correlationId, now }, change.stock, change.stock.available + item.quantity));
    }
    await appendToOutbox(trx, lowStock);
    return reservation;
  });
}

/** The order already has a reservation: return it if it is the same request, refuse if not. */
async function replay(trx: Knex.Transaction, orderId: string, hash: string): Promise<ReservationRecord> {
  const existing = (await findReservation(trx, orderId))!;
  if (existing.requestHash !== hash) {
    throw alreadyExists(`order ${orderId} already has a reservation with different items`, {
      reason: 'IDEMPOTENCY_KEY_REUSED',
      field: 'order_id',
      metadata: { order_id: orderId },
    });
  }
  const { requestHash: _, ...reservation } = existing;
  return reservation;
}

/** Prices come from the catalog at reservation time, never from the caller. */
async function priceItems(trx: Knex.Transaction, items: ReserveStockCommand['items']): Promise<ReservationItemRecord[]> {
  const products = await findProductsByIds(
    trx,
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
