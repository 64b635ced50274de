import type { RequestContext } from '#libs/context/request-context.js';
import { inTransaction } from '#libs/db/in-transaction.js';
import { notFound } from '#libs/errors/app-error.js';
import { appendToOutbox } from '#libs/events/outbox.js';
import { finishTransfer, lockStockRows, lockTransfer, moveStock } from '../../data/transfers.js';
import { recordMovements } from '../../data/stock-levels.js';
import type { InventoryDeps } from '../deps.js';
import type { StoredTransfer, TransferRecord } from '../transfer-types.js';
import { illegalTransferTransition, returningChanges } from './transfer-rules.js';

/**
 * CancelTransfer: with the transfer row locked, return its units from the
 * sender's in transit to its available stock (TRANSFER_CANCELLED), whatever the
 * sender's state now (the units are physically back there). Idempotent;
 * FAILED_PRECONDITION once received.
 */
export async function cancelTransfer(deps: InventoryDeps, ctx: RequestContext, id: string, reason: string): Promise<TransferRecord> {
  const now = deps.clock.now();
  return inTransaction(deps, async (trx) => {
    const transfer = await lockTransfer(trx, id);
    if (!transfer) throw notFound('transfer', id);
    if (transfer.status === 'CANCELLED') return transfer;
    if (transfer.status === 'RECEIVED') throw illegalTransferTransition(transfer, 'cancel', 'it was already received');

    const cancelled: StoredTransfer = { ...transfer, status: 'CANCELLED', cancelReason: reason || 'cancelled by caller', updatedAt: now };
    const { deltas, movements } = returningChanges(cancelled);
    await lockStockRows(trx, deltas);
    const moved = await moveStock(trx, deltas, now);
    if (moved.length !== deltas.length) throw new Error(`transfer ${transfer.id}: in-transit units missing at the sender`);
    await recordMovements(trx, movements, now);
    if (!(await finishTransfer(trx, cancelled))) throw new Error(`transfer ${transfer.id} left IN_TRANSIT under its lock`);

    const eventCtx = { correlationId: ctx.correlationId, now };
    await appendToOutbox(trx, [
      deps.events.transferCancelled(eventCtx, cancelled),
      ...moved.map((stock) =>
        deps.events.stockReplenishedAt(eventCtx, stock, cancelled.lines.find((l) => l.productId === stock.productId)!.quantity),
      ),
    ]);
    return cancelled;
  });
}
