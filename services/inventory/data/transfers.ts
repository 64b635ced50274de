import type { Db, Tx } from '#libs/db/types.js';
import type { StockRecord } from '../domain/types.js';
import { LOCATION_STOCK_COLUMNS, toStock, type StockRow } from './rows.js';
import type { LossReason, StockDelta, StockKey, StoredTransfer, TransferProduct, TransferStatus } from '../domain/transfer-types.js';

/** Transfers and the stock rows they move (docs/transfers.md). Row locks are taken in (product_id, location_id) order. */

interface TransferRow {
  id: string;
  idempotency_key: string;
  request_hash: string;
  from_location_id: string;
  to_location_id: string;
  status: TransferStatus;
  note: string;
  loss_reason: LossReason | null;
  receipt_hash: string | null;
  cancel_reason: string | null;
  created_at: Date;
  updated_at: Date;
}

interface LineRow {
  product_id: string;
  quantity: number;
  received_quantity: number | null;
}

async function withLines(db: Db, row: TransferRow | undefined): Promise<StoredTransfer | undefined> {
  if (!row) return undefined;
  const lines: LineRow[] = await db('transfer_lines')
    .where({ transfer_id: row.id })
    .orderBy('product_id')
    .select('product_id', 'quantity', 'received_quantity');
  return {
    id: row.id,
    fromLocationId: row.from_location_id,
    toLocationId: row.to_location_id,
    status: row.status,
    lines: lines.map((line) => ({
      productId: line.product_id,
      quantity: line.quantity,
      ...(line.received_quantity === null ? {} : { receivedQuantity: line.received_quantity }),
    })),
    idempotencyKey: row.idempotency_key,
    note: row.note,
    lossReason: row.loss_reason ?? undefined,
    cancelReason: row.cancel_reason ?? undefined,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    requestHash: row.request_hash,
    receiptHash: row.receipt_hash ?? undefined,
  };
}

export async function findTransfer(db: Db, id: string): Promise<StoredTransfer | undefined> {
  return withLines(db, await db<TransferRow>('transfers').where({ id }).first());
}

export async function findTransferByKey(db: Db, idempotencyKey: string): Promise<StoredTransfer | undefined> {
  return withLines(db, await db<TransferRow>('transfers').where({ idempotency_key: idempotencyKey }).first());
}

/** The transfer, its row locked FOR UPDATE: receive and cancel of one transfer take turns on it. */
export async function lockTransfer(trx: Tx, id: string): Promise<StoredTransfer | undefined> {
  return withLines(trx, await trx<TransferRow>('transfers').where({ id }).forUpdate().first());
}

/**
 * Claims the idempotency key together with the transfer and its lines (same
 * transaction, INSERT … ON CONFLICT DO NOTHING): false when another request
 * holds the key (a concurrent one is waited for). A rollback frees the key.
 */
export async function claimTransfer(trx: Tx, transfer: StoredTransfer): Promise<boolean> {
  const claimed = await trx('transfers')
    .insert({
      id: transfer.id,
      idempotency_key: transfer.idempotencyKey,
      request_hash: transfer.requestHash,
      from_location_id: transfer.fromLocationId,
      to_location_id: transfer.toLocationId,
      status: transfer.status,
      note: transfer.note,
      created_at: transfer.createdAt,
      updated_at: transfer.updatedAt,
    })
    .onConflict('idempotency_key')
    .ignore()
    .returning('id');
  if (claimed.length === 0) return false;
  await trx('transfer_lines').insert(
    transfer.lines.map((line) => ({ transfer_id: transfer.id, product_id: line.productId, quantity: line.quantity })),
  );
  return true;
}

/** The end of a transfer in transit: guarded by its status, so only one of a receive and a cancel can move it. */
export async function finishTransfer(
  trx: Tx,
  transfer: Pick<StoredTransfer, 'id' | 'status' | 'lines' | 'lossReason' | 'receiptHash' | 'cancelReason' | 'updatedAt'>,
): Promise<boolean> {
  const moved = await trx('transfers')
    .where({ id: transfer.id, status: 'IN_TRANSIT' })
    .update({
      status: transfer.status,
      loss_reason: transfer.lossReason ?? null,
      receipt_hash: transfer.receiptHash ?? null,
      cancel_reason: transfer.cancelReason ?? null,
      updated_at: transfer.updatedAt,
    });
  if (moved !== 1) return false;
  const received = transfer.lines.filter((line) => line.receivedQuantity !== undefined);
  if (received.length > 0) {
    await trx.raw(
      `update transfer_lines l set received_quantity = r.received
         from unnest(?::uuid[], ?::int[]) as r(product_id, received)
        where l.transfer_id = ? and l.product_id = r.product_id`,
      [received.map((line) => line.productId), received.map((line) => line.receivedQuantity!), transfer.id],
    );
  }
  return true;
}

export async function findTransferProducts(db: Db, ids: readonly string[]): Promise<Map<string, TransferProduct>> {
  const rows: { id: string; deleted_at: Date | null }[] = await db('products')
    .whereIn('id', [...ids])
    .select('id', 'deleted_at');
  return new Map(rows.map((row) => [row.id, { id: row.id, deleted: row.deleted_at !== null }]));
}

/** Creates the missing stock rows (all zero) at a location; an existing row is left alone and not locked. */
export async function ensureStockRows(trx: Tx, locationId: string, productIds: readonly string[], now: Date): Promise<void> {
  if (productIds.length === 0) return;
  await trx.raw(
    `insert into stock_levels (product_id, location_id, available, updated_at)
     select product_id, ?, 0, ? from unnest(?::uuid[]) as p(product_id) order by product_id
     on conflict (product_id, location_id) do nothing`,
    [locationId, now, [...productIds]],
  );
}

/** Locks the stock rows FOR UPDATE in (product_id, location_id) order and returns them in it; a missing row is absent. */
export async function lockStockRows(trx: Tx, keys: readonly StockKey[]): Promise<StockRecord[]> {
  if (keys.length === 0) return [];
  const { rows } = await trx.raw<{ rows: StockRow[] }>(
    `select ${LOCATION_STOCK_COLUMNS}
       from stock_levels s join products p on p.id = s.product_id
      where (s.product_id, s.location_id) in (select * from unnest(?::uuid[], ?::uuid[]))
      order by s.product_id, s.location_id
        for update of s`,
    [keys.map((k) => k.productId), keys.map((k) => k.locationId)],
  );
  return rows.map(toStock);
}

/**
 * Applies the deltas in one conditional statement: a row moves only if no
 * counter would go below zero. Returns the rows after the change; a caller
 * holding the locks that gets fewer rows back than it sent has a bug, and the
 * CHECK constraints are the backstop behind this guard.
 */
export async function moveStock(trx: Tx, deltas: readonly StockDelta[], now: Date): Promise<StockRecord[]> {
  if (deltas.length === 0) return [];
  const { rows } = await trx.raw<{ rows: StockRow[] }>(
    `update stock_levels s
        set available = s.available + d.available_delta, in_transit = s.in_transit + d.in_transit_delta, updated_at = ?
       from unnest(?::uuid[], ?::uuid[], ?::bigint[], ?::bigint[]) as d(product_id, location_id, available_delta, in_transit_delta),
            products p
      where s.product_id = d.product_id and s.location_id = d.location_id and p.id = s.product_id
        and s.available + d.available_delta >= 0 and s.in_transit + d.in_transit_delta >= 0
    returning ${LOCATION_STOCK_COLUMNS}`,
    [
      now,
      deltas.map((d) => d.productId),
      deltas.map((d) => d.locationId),
      deltas.map((d) => d.availableDelta),
      deltas.map((d) => d.inTransitDelta),
    ],
  );
  return rows.map(toStock);
}
