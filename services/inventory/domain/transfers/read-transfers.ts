import { notFound } from '#libs/errors/app-error.js';
import { findTransfer } from '../../data/transfers.js';
import type { InventoryDeps } from '../deps.js';
import type { TransferRecord } from '../transfer-types.js';

/** GetTransfer: NOT_FOUND (TRANSFER_NOT_FOUND) for an unknown id. */
export async function getTransfer(deps: InventoryDeps, id: string): Promise<TransferRecord> {
  const transfer = await findTransfer(deps.db, id);
  if (!transfer) throw notFound('transfer', id);
  return transfer;
}
