import type { RequestContext } from '#libs/context/request-context.js';
import { inTransaction } from '#libs/db/in-transaction.js';
import { notFound } from '#libs/errors/app-error.js';
import { appendToOutbox } from '#libs/events/outbox.js';
import { ensureStockRow, findStockLevels, lockStockRow, writeStockSettings } from '../../data/stock-levels.js';
import type { InventoryDeps } from '../deps.js';
import type { StockRecord, StockSettingsPatch } from '../types.js';
import { holdLocationForStock, resolveLocation } from './stock-location.js';

export interface UpdateStockSettingsCommand {
  productId: string;
  /** Unset: the default location. */
  locationId?: string;
  patch: StockSettingsPatch;
}

/**
 * A product's safety stock and low-stock threshold at one location (docs/design.md
 * §8). Its stock row is locked first, so a reservation batch sees the old
 * settings or the new ones, never half; more safety stock than is on hand is
 * allowed (then nothing there is available to sell). If the change takes what is
 * available to sell to or below the threshold, StockLow is published as for any
 * other change.
 */
export async function updateStockSettings(
  deps: InventoryDeps,
  ctx: RequestContext,
  command: UpdateStockSettingsCommand,
): Promise<StockRecord> {
  const now = deps.clock.now();
  const { id: locationId } = await resolveLocation(deps, command.locationId);
  return inTransaction(deps, async (trx) => {
    await holdLocationForStock(trx, locationId);
    const existing = (await findStockLevels(trx, [command.productId], { locationId })).get(command.productId);
    if (!existing) throw notFound('product', command.productId);
    if (existing.updatedAt.getTime() === 0) await ensureStockRow(trx, command.productId, locationId, now);
    const before = (await lockStockRow(trx, command.productId, locationId))!;
    const after = await writeStockSettings(trx, command.productId, locationId, command.patch, now);
    await appendToOutbox(trx, deps.events.stockLowIfCrossed({ correlationId: ctx.correlationId, now }, after, before.availableToSell));
    return after;
  });
}
