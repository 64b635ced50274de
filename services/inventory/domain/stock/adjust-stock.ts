import type { Tx } from '#libs/db/types.js';
import { alreadyExists, failedPrecondition, notFound } from '#libs/errors/app-error.js';
import { appendToOutbox } from '#libs/events/outbox.js';
import { claimAdjustment, findAdjustment, recordAdjustmentResult } from '../../data/adjustments.js';
import { findStockLevels, adjustAvailable, recordMovements } from '../../data/stock-levels.js';
import { inTransaction } from '#libs/db/in-transaction.js';
import type { RequestContext } from '#libs/context/request-context.js';
import { type InventoryDeps } from '../deps.js';
import { requestHash } from '#libs/idempotency/request-hash.js';
import type { AdjustmentReason, StockRecord } from '../types.js';

export interface AdjustStockCommand {
  productId: string;
  delta: number;
  reason: AdjustmentReason;
  idempotencyKey: string;
  note: string;
}

/**
 * Restock or write-off, idempotent on its key: the key is claimed in the same
 * transaction as the stock change, so a repeat replays the stored result and a
 * failed attempt leaves the key unused.
 */
export async function adjustStock(deps: InventoryDeps, ctx: RequestContext, command: AdjustStockCommand): Promise<StockRecord> {
  const now = deps.clock.now();
  const hash = requestHash([command.productId, command.delta, command.reason]);
  return inTransaction(deps, async (trx) => {
    const stock = await findStockLevels(trx, [command.productId]);
    if (!stock.has(command.productId)) throw notFound('product', command.productId);
    if (!(await claimAdjustment(trx, { ...command, requestHash: hash }, now))) {
      return replay(trx, command, hash);
    }
    await recordMovements(
      trx,
      [
        {
          productId: command.productId,
          kind: 'ADJUSTMENT',
          availableDelta: command.delta,
          reservedDelta: 0,
          soldDelta: 0,
          reference: command.idempotencyKey,
        },
      ],
      now,
    );
    const change = await adjustAvailable(trx, command.productId, command.delta, now);
    if (!change.ok) {
      throw failedPrecondition(
        `cannot write off ${-command.delta} units of product ${command.productId}: only ${change.available ?? 0} available`,
        {
          reason: 'INSUFFICIENT_STOCK',
          metadata: { product_id: command.productId, requested: String(-command.delta), available: String(change.available ?? 0) },
        },
      );
    }
    await recordAdjustmentResult(trx, command.idempotencyKey, change.stock);
    const eventCtx = { correlationId: ctx.correlationId, now };
    await appendToOutbox(trx, [
      ...deps.events.stockAdjusted(eventCtx, change.stock, command.delta, command.reason),
      ...deps.events.stockLowIfCrossed(eventCtx, change.stock, change.stock.available - command.delta),
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
  const current = (await findStockLevels(trx, [existing.productId])).get(existing.productId)!;
  // The result as it was right after the original adjustment.
  return { ...current, ...existing.result, updatedAt: existing.createdAt };
}
