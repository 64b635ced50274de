import { TransferStatus, type Transfer } from '#libs/contracts/larder/inventory/v1/locations.js';
import { INVENTORY_EVENTS as EVENTS } from '#libs/events/catalog.js';
import type { EventContext } from '../domain/event-port.js';
import type { TransferRecord } from '../domain/transfer-types.js';
import type { StockRecord } from '../domain/types.js';
import { event, reasonMessage } from './events.js';
import { toStockLevelMessage } from './to-proto.js';

/** Transfers and the stock they move → protobuf messages and outbox events (docs/transfers.md). */

const statusMessage: Record<TransferRecord['status'], TransferStatus> = {
  IN_TRANSIT: TransferStatus.TRANSFER_STATUS_IN_TRANSIT,
  RECEIVED: TransferStatus.TRANSFER_STATUS_RECEIVED,
  CANCELLED: TransferStatus.TRANSFER_STATUS_CANCELLED,
};

export const toTransferMessage = (transfer: TransferRecord): Transfer => ({
  id: transfer.id,
  fromLocationId: transfer.fromLocationId,
  toLocationId: transfer.toLocationId,
  status: statusMessage[transfer.status],
  lines: transfer.lines.map((line) => ({
    productId: line.productId,
    quantity: line.quantity,
    receivedQuantity: line.receivedQuantity ?? 0,
  })),
  idempotencyKey: transfer.idempotencyKey,
  note: transfer.note,
  lossReason: transfer.lossReason ? reasonMessage[transfer.lossReason] : 0,
  cancelReason: transfer.cancelReason ?? '',
  createTime: transfer.createdAt,
  updateTime: transfer.updatedAt,
});

export const transferCreated = (ctx: EventContext, transfer: TransferRecord) =>
  event(EVENTS.transferCreated, ctx, { transfer: toTransferMessage(transfer) });

export const transferReceived = (ctx: EventContext, transfer: TransferRecord) =>
  event(EVENTS.transferReceived, ctx, { transfer: toTransferMessage(transfer) });

export const transferCancelled = (ctx: EventContext, transfer: TransferRecord) =>
  event(EVENTS.transferCancelled, ctx, { transfer: toTransferMessage(transfer) });

/** StockReplenished at one location: units landed there (a receipt) or came back (a cancel); waiting orders retry on it. */
export const stockReplenishedAt = (ctx: EventContext, stock: StockRecord, quantity: number) =>
  event(EVENTS.stockReplenished, ctx, {
    productId: stock.productId,
    locationId: stock.locationId,
    quantity,
    stockLevel: toStockLevelMessage(stock),
  });
