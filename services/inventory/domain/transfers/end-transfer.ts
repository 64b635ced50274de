import type { Tx } from '#libs/db/types.js';
import { recordMovements } from '../../data/stock-levels.js';
import { finishTransfer, lockStockRows, moveStock } from '../../data/transfers.js';
import type { StoredTransfer } from '../transfer-types.js';
import type { StockRecord } from '../types.js';
import type { StockChanges } from './transfer-rules.js';

/**
 * The end of a transfer the caller holds locked (a receipt or a cancel): its
 * stock rows locked in (product, location) order and moved by one conditional
 * statement, the ledger rows, the new status. Returns the rows as moved.
 */
export async function endTransfer(trx: Tx, ended: StoredTransfer, changes: StockChanges, now: Date): Promise<StockRecord[]> {
  await lockStockRows(trx, changes.deltas);
  const moved = await moveStock(trx, changes.deltas, now);
  if (moved.length !== changes.deltas.length) throw new Error(`transfer ${ended.id}: in-transit units missing at the sender`);
  await recordMovements(trx, changes.movements, now);
  if (!(await finishTransfer(trx, ended))) throw new Error(`transfer ${ended.id} left IN_TRANSIT under its lock`);
  return moved;
}
