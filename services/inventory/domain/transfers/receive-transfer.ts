import type { RequestContext } from '#libs/context/request-context.js';
import { inTransaction } from '#libs/db/in-transaction.js';
import { notFound } from '#libs/errors/app-error.js';
import { appendToOutbox } from '#libs/events/outbox.js';
import { lockLocationForStock } from '../../data/location-directory.js';
import { ensureStockRows, lockTransfer } from '../../data/transfers.js';
import type { InventoryDeps } from '../deps.js';
import type { LossReason, StoredTransfer, TransferItem, TransferRecord } from '../transfer-types.js';
import { endTransfer } from './end-transfer.js';
import { checkLocation, illegalTransferTransition, readReceipt, receivingChanges } from './transfer-rules.js';

export interface ReceiveTransferCommand {
  id: string;
  /** Units that arrived per product (distinct); an unlisted line arrived in full. */
  received: readonly TransferItem[];
  lossReason?: LossReason;
}

/**
 * ReceiveTransfer: with the transfer row locked (a concurrent cancel or
 * receipt waits, then sees it finished), land what arrived at the receiver and
 * take the whole quantity out of the sender's in transit, the shortfall as a
 * loss. A repeat of the same receipt returns the transfer; anything else after
 * it ended is FAILED_PRECONDITION.
 */
export async function receiveTransfer(deps: InventoryDeps, ctx: RequestContext, command: ReceiveTransferCommand): Promise<TransferRecord> {
  const now = deps.clock.now();
  return inTransaction(deps, async (trx) => {
    const transfer = await lockTransfer(trx, command.id);
    if (!transfer) throw notFound('transfer', command.id);
    const receipt = readReceipt(transfer.lines, command.received, command.lossReason);
    if (transfer.status === 'RECEIVED' && transfer.receiptHash === receipt.hash) return transfer;
    if (transfer.status === 'RECEIVED')
      throw illegalTransferTransition(transfer, 'receive', 'it was already received with other quantities');
    if (transfer.status === 'CANCELLED') throw illegalTransferTransition(transfer, 'receive', 'it was cancelled');

    checkLocation(await lockLocationForStock(trx, transfer.toLocationId), transfer.toLocationId);
    const received: StoredTransfer = {
      ...transfer,
      status: 'RECEIVED',
      lines: receipt.lines,
      lossReason: receipt.lossReason,
      receiptHash: receipt.hash,
      updatedAt: now,
    };
    const changes = receivingChanges(received);
    const landing = received.lines.filter((line) => line.receivedQuantity! > 0);
    await ensureStockRows(
      trx,
      transfer.toLocationId,
      landing.map((line) => line.productId),
      now,
    );
    const moved = await endTransfer(trx, received, changes, now);

    const eventCtx = { correlationId: ctx.correlationId, now };
    const landed = moved.filter((stock) => stock.locationId === transfer.toLocationId);
    await appendToOutbox(trx, [
      deps.events.transferReceived(eventCtx, received),
      ...landed.map((stock) =>
        deps.events.stockReplenishedAt(eventCtx, stock, landing.find((line) => line.productId === stock.productId)!.receivedQuantity!),
      ),
    ]);
    return received;
  });
}
