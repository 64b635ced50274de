import type { RequestContext } from '#libs/context/request-context.js';
import { inTransaction } from '#libs/db/in-transaction.js';
import { notFound } from '#libs/errors/app-error.js';
import { appendToOutbox } from '#libs/events/outbox.js';
import { lockTransfer } from '../../data/transfers.js';
import type { InventoryDeps } from '../deps.js';
import type { StoredTransfer, TransferRecord } from '../transfer-types.js';
import { endTransfer } from './end-transfer.js';
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
    const moved = await endTransfer(trx, cancelled, returningChanges(cancelled), now);

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
