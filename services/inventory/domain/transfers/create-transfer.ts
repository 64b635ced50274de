import type { RequestContext } from '#libs/context/request-context.js';
import { inTransaction } from '#libs/db/in-transaction.js';
import type { Tx } from '#libs/db/types.js';
import { alreadyExists, AppError } from '#libs/errors/app-error.js';
import { appendToOutbox } from '#libs/events/outbox.js';
import { uuidv7 } from '#libs/ids/uuid.js';
import { claimTransfer, findTransferByKey, findTransferProducts, lockStockRows, moveStock } from '../../data/transfers.js';
import { recordMovements } from '../../data/stock-levels.js';
import { lockLocationForStock } from '../../data/location-directory.js';
import type { InventoryDeps } from '../deps.js';
import type { StoredTransfer, TransferItem, TransferRecord } from '../transfer-types.js';
import { byProduct, checkLocation, refuseShortLines, sendingChanges, transferRequestHash } from './transfer-rules.js';

export interface CreateTransferCommand {
  fromLocationId: string;
  toLocationId: string;
  /** Distinct products. */
  items: readonly TransferItem[];
  idempotencyKey: string;
  note: string;
}

/**
 * CreateTransfer: in one transaction, claim the key (a repeat of the same
 * request replays the transfer as it is now), hold both locations FOR SHARE,
 * lock the sender's stock rows in product order, refuse any short line, then
 * move the units from available into in transit with their TRANSFER_OUT ledger
 * rows, the transfer and its TransferCreated event.
 */
export async function createTransfer(deps: InventoryDeps, ctx: RequestContext, command: CreateTransferCommand): Promise<TransferRecord> {
  const now = deps.clock.now();
  const items = [...command.items].sort(byProduct);
  const hash = transferRequestHash(command.fromLocationId, command.toLocationId, items, command.note);
  return inTransaction(deps, async (trx) => {
    const earlier = await findTransferByKey(trx, command.idempotencyKey);
    if (earlier) return replay(earlier, hash);

    await holdLocations(trx, command);
    await checkProducts(trx, command.items);

    const transfer: StoredTransfer = {
      id: uuidv7(now.getTime()),
      fromLocationId: command.fromLocationId,
      toLocationId: command.toLocationId,
      status: 'IN_TRANSIT',
      lines: items.map((item) => ({ productId: item.productId, quantity: item.quantity })),
      idempotencyKey: command.idempotencyKey,
      note: command.note,
      requestHash: hash,
      createdAt: now,
      updatedAt: now,
    };
    // A concurrent request with the key won while we checked: its transfer is the answer.
    if (!(await claimTransfer(trx, transfer))) return replay((await findTransferByKey(trx, command.idempotencyKey))!, hash);

    await takeFromSender(deps, trx, ctx, transfer);
    deps.crash?.reached('transfer-mid-transaction');
    return transfer;
  });
}

function replay(earlier: StoredTransfer, hash: string): TransferRecord {
  if (earlier.requestHash !== hash) {
    throw alreadyExists(`idempotency_key "${earlier.idempotencyKey}" was already used for a different transfer`, {
      reason: 'IDEMPOTENCY_KEY_REUSED',
      field: 'idempotency_key',
      metadata: { transfer_id: earlier.id },
    });
  }
  return earlier;
}

/**
 * The sender's rows locked in product order; every line must fit what is
 * available there (else nothing moves); then available −q, in_transit +q per
 * line in one conditional statement, the TRANSFER_OUT rows, TransferCreated,
 * and StockLow where the sender fell to its threshold.
 */
async function takeFromSender(deps: InventoryDeps, trx: Tx, ctx: RequestContext, transfer: StoredTransfer): Promise<void> {
  const now = transfer.createdAt;
  const senderStock = await lockStockRows(
    trx,
    transfer.lines.map((line) => ({ productId: line.productId, locationId: transfer.fromLocationId })),
  );
  refuseShortLines(transfer.lines, senderStock);
  const { deltas, movements } = sendingChanges(transfer);
  const moved = await moveStock(trx, deltas, now);
  if (moved.length !== deltas.length) throw new Error(`transfer ${transfer.id}: stock rows changed under their locks`);
  await recordMovements(trx, movements, now);
  const eventCtx = { correlationId: ctx.correlationId, now };
  const sent = new Map(transfer.lines.map((line) => [line.productId, line.quantity]));
  await appendToOutbox(trx, [
    deps.events.transferCreated(eventCtx, transfer),
    ...moved.flatMap((stock) =>
      deps.events.stockLowIfCrossed(eventCtx, stock, Math.max(0, stock.available + sent.get(stock.productId)! - stock.safetyStock)),
    ),
  ]);
}

/**
 * Both locations held FOR SHARE (in id order) for the transaction, so a
 * concurrent DeleteLocation or deactivation waits for it; each must exist and be active.
 */
async function holdLocations(trx: Tx, command: CreateTransferCommand): Promise<void> {
  const ends = [
    { id: command.fromLocationId, field: 'from_location_id' },
    { id: command.toLocationId, field: 'to_location_id' },
  ];
  const held = new Map<string, Awaited<ReturnType<typeof lockLocationForStock>>>();
  for (const { id } of [...ends].sort((a, b) => (a.id < b.id ? -1 : 1))) held.set(id, await lockLocationForStock(trx, id));
  for (const { id, field } of ends) checkLocation(held.get(id), id, field);
}

/** Every product must exist; a deleted one may still be moved (its units are physical: a closing store ships them back). */
async function checkProducts(trx: Tx, items: readonly TransferItem[]): Promise<void> {
  const products = await findTransferProducts(
    trx,
    items.map((item) => item.productId),
  );
  const index = items.findIndex((item) => !products.has(item.productId));
  if (index < 0) return;
  const id = items[index]!.productId;
  throw new AppError('notFound', `product ${id} not found`, {
    reason: 'PRODUCT_NOT_FOUND',
    field: `items[${index}].product_id`,
    metadata: { id },
  });
}
