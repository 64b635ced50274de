import type { Knex } from 'knex';
import type { AdjustmentReason, StockRecord, StoredAdjustment } from '../domain/types.js';

/**
 * Claims an adjustment's idempotency key atomically with its effect (same
 * transaction, INSERT … ON CONFLICT DO NOTHING). If the transaction rolls back,
 * the key is free again: a failed request does not use up its key.
 */
export async function claimAdjustment(
  trx: Knex.Transaction,
  adjustment: {
    idempotencyKey: string;
    productId: string;
    locationId: string;
    delta: number;
    reason: AdjustmentReason;
    note: string;
    requestHash: string;
  },
  now: Date,
): Promise<boolean> {
  const rows = await trx('stock_adjustments')
    .insert({
      idempotency_key: adjustment.idempotencyKey,
      product_id: adjustment.productId,
      location_id: adjustment.locationId,
      delta: adjustment.delta,
      reason: adjustment.reason,
      note: adjustment.note,
      request_hash: adjustment.requestHash,
      created_at: now,
    })
    .onConflict('idempotency_key')
    .ignore()
    .returning('idempotency_key');
  return rows.length === 1;
}

export async function recordAdjustmentResult(trx: Knex.Transaction, idempotencyKey: string, stock: StockRecord): Promise<void> {
  await trx('stock_adjustments')
    .update({ result_available: stock.available, result_reserved: stock.reserved, result_sold: stock.sold })
    .where({ idempotency_key: idempotencyKey });
}

export async function findAdjustment(trx: Knex.Transaction, idempotencyKey: string): Promise<StoredAdjustment | undefined> {
  const row = await trx('stock_adjustments').where({ idempotency_key: idempotencyKey }).first();
  if (!row) return undefined;
  return {
    idempotencyKey: row.idempotency_key,
    productId: row.product_id,
    locationId: row.location_id,
    requestHash: row.request_hash,
    result:
      row.result_available === null ? undefined : { available: row.result_available, reserved: row.result_reserved, sold: row.result_sold },
    createdAt: row.created_at,
  };
}
