import type { Tx } from '#libs/db/types.js';
import { alreadyExists, failedPrecondition, notFound } from '#libs/errors/app-error.js';
import { appendToOutbox } from '#libs/events/outbox.js';
import { claimAdjustment, findAdjustment, recordAdjustmentResult } from '../../data/adjustments.js';
import { adjustAvailable, ensureStockRow, findStockLevels, recordMovements } from '../../data/stock-levels.js';
import { inTransaction } from '#libs/db/in-transaction.js';
import type { RequestContext } from '#libs/context/request-context.js';
import { type InventoryDeps } from '../deps.js';
import { requestHash } from '#libs/idempotency/request-hash.js';
import type { AdjustmentReason, StockRecord } from '../types.js';
import { holdLocationForStock, resolveLocation } from './stock-location.js';

export interface AdjustStockCommand {
  productId: string;
  /** Unset: the default location. */
  locationId?: string;
  delta: number;
  reason: AdjustmentReason;
  idempotencyKey: string;
  note: string;
}

/**
 * Restock or write-off at one location, idempotent on its key: the key is
 * claimed in the same transaction as the stock change, so a repeat replays the
 * stored result and a failed attempt leaves the key unused. A first restock at a
 * location creates the product's stock row there.
 */
export async function adjustStock(deps: InventoryDeps, ctx: RequestContext, command: AdjustStockCommand): Promise<StockRecord> {
  const now = deps.clock.now();
  const location = await resolveLocation(deps, command.locationId);
  // Keys claimed before locations (all at the default location) keep their hash.
  const hash = requestHash([command.productId, command.delta, command.reason, ...(location.isDefault ? [] : [location.id])]);
  const locationId = location.id;
  return inTransaction(deps, async (trx) => {
    await holdLocationForStock(trx, locationId);
    const before = (await findStockLevels(trx, [command.productId], { locationId })).get(command.productId);
    if (!before) throw notFound('product', command.productId);
    if (!(await claimAdjustment(trx, { ...command, locationId, requestHash: hash }, now))) {
      return replay(trx, command, hash);
    }
    await recordMovements(
      trx,
      [
        {
          productId: command.productId,
          locationId,
          kind: 'ADJUSTMENT',
          availableDelta: command.delta,
          reservedDelta: 0,
          soldDelta: 0,
          reference: command.idempotencyKey,
        },
      ],
      now,
    );
    if (before.updatedAt.getTime() === 0) await ensureStockRow(trx, command.productId, locationId, now);
    const change = await adjustAvailable(trx, command.productId, locationId, command.delta, now);
    if (!change.ok) {
      throw failedPrecondition(
        `cannot write off ${-command.delta} units of product ${command.productId}: only ${change.available ?? 0} available`,
        {
          reason: 'INSUFFICIENT_STOCK',
          metadata: {
            product_id: command.productId,
            location_id: locationId,
            requested: String(-command.delta),
            available: String(change.available ?? 0),
          },
        },
      );
    }
    await recordAdjustmentResult(trx, command.idempotencyKey, change.stock);
    const eventCtx = { correlationId: ctx.correlationId, now };
    const sellableBefore = Math.max(change.stock.available - command.delta - change.stock.safetyStock, 0);
    await appendToOutbox(trx, [
      ...deps.events.stockAdjusted(eventCtx, change.stock, command.delta, command.reason),
      ...deps.events.stockLowIfCrossed(eventCtx, change.stock, sellableBefore),
    ]);
    return change.stock;
  });
}

async function replay(trx: Tx, command: AdjustStockCommand, hash: string): Promise<StockRecord> {
  const existing = (await findAdjustment(trx, command.idempotencyKey))!;
  if (existing.requestHash !== hash || !existing.result) {
    throw alreadyExists(`idempotency_key "${command.idempotencyKey}" was already used for a different adjustment`, {
      reason: 'IDEMPOTENCY_KEY_REUSED',
      field: 'idempotency_key',
    });
  }
  const current = (await findStockLevels(trx, [existing.productId], { locationId: existing.locationId })).get(existing.productId)!;
  // The result as it was right after the original adjustment.
  const available = existing.result.available;
  return {
    ...current,
    ...existing.result,
    availableToSell: Math.max(available - current.safetyStock, 0),
    updatedAt: existing.createdAt,
  };
}
