import { AdjustmentReason as Reason } from '#libs/contracts/larder/inventory/v1/resources.js';
import { invalid } from '#libs/errors/app-error.js';
import { rpcError } from '#libs/grpc/rpc-errors.js';
import * as v from '#libs/validation/fields.js';
import { toTransferMessage } from '../contract/transfers.js';
import { cancelTransfer } from '../domain/transfers/cancel-transfer.js';
import { createTransfer } from '../domain/transfers/create-transfer.js';
import { getTransfer } from '../domain/transfers/read-transfers.js';
import { receiveTransfer } from '../domain/transfers/receive-transfer.js';
import type { LossReason, TransferItem } from '../domain/transfer-types.js';
import { keyReused, locationInactive, locationNotFound, productNotFound } from './rpc-errors.js';
import type { InventoryRpcs } from './scopes.js';

const transferNotFound = rpcError('NOT_FOUND', 'TRANSFER_NOT_FOUND', 'no transfer has this id');
const illegalTransferTransition = rpcError(
  'FAILED_PRECONDITION',
  'ILLEGAL_TRANSFER_TRANSITION',
  'the transfer already ended the other way (or was received with other quantities); ErrorInfo metadata holds its status',
);

const lossReasons: Record<number, LossReason> = {
  [Reason.ADJUSTMENT_REASON_DAMAGED]: 'DAMAGED',
  [Reason.ADJUSTMENT_REASON_EXPIRED]: 'EXPIRED',
  [Reason.ADJUSTMENT_REASON_LOST]: 'LOST',
};

/** Products and quantities of a request, each product at most once (`min` is 1 for units sent, 0 for units received). */
function transferItems(field: string, items: readonly { productId: string; quantity: number }[], min: number): TransferItem[] {
  const seen = new Set<string>();
  return items.map((item, i) => {
    const productId = v.requireUuid(`${field}[${i}].product_id`, item.productId);
    if (seen.has(productId)) throw invalid(`${field}[${i}].product_id`, `repeats ${productId}`);
    seen.add(productId);
    return { productId, quantity: v.integer(`${field}[${i}].quantity`, item.quantity, { min, max: 1_000_000 }) };
  });
}

/** CreateTransfer, GetTransfer, ReceiveTransfer, CancelTransfer (docs/transfers.md): each RPC's scope, errors and handler. */
export const transferRpcs = {
  createTransfer: {
    scope: 'stock.write',
    errors: [
      locationNotFound,
      locationInactive,
      productNotFound,
      rpcError(
        'FAILED_PRECONDITION',
        'INSUFFICIENT_STOCK',
        'the sender has fewer unreserved units of a product than the line sends; one PreconditionViolation per short line',
      ),
      keyReused,
    ],
    async handle(deps, request, ctx) {
      const fromLocationId = v.requireUuid('from_location_id', request.fromLocationId);
      const toLocationId = v.requireUuid('to_location_id', request.toLocationId);
      if (toLocationId === fromLocationId) throw invalid('to_location_id', 'must not be the sending location');
      const items = transferItems('items', v.listSize('items', request.items, { min: 1, max: 100 }), 1);
      const transfer = await createTransfer(deps, ctx, {
        fromLocationId,
        toLocationId,
        items,
        idempotencyKey: v.text('idempotency_key', request.idempotencyKey, { min: 1, max: 128 }),
        note: v.text('note', request.note, { max: 500 }),
      });
      return { transfer: toTransferMessage(transfer) };
    },
  },

  getTransfer: {
    scope: 'catalog.read',
    errors: [transferNotFound],
    async handle(deps, request) {
      return { transfer: toTransferMessage(await getTransfer(deps, v.requireUuid('id', request.id))) };
    },
  },

  receiveTransfer: {
    scope: 'stock.write',
    errors: [transferNotFound, locationInactive, illegalTransferTransition],
    async handle(deps, request, ctx) {
      const id = v.requireUuid('id', request.id);
      const received = transferItems('received', v.listSize('received', request.received, { min: 0, max: 100 }), 0);
      const lossReason =
        request.lossReason === Reason.ADJUSTMENT_REASON_UNSPECIFIED
          ? undefined
          : (lossReasons[request.lossReason] ?? failLossReason(request.lossReason));
      return { transfer: toTransferMessage(await receiveTransfer(deps, ctx, { id, received, lossReason })) };
    },
  },

  cancelTransfer: {
    scope: 'stock.write',
    errors: [transferNotFound, illegalTransferTransition],
    async handle(deps, request, ctx) {
      const id = v.requireUuid('id', request.id);
      const reason = v.text('reason', request.reason, { max: 500 });
      return { transfer: toTransferMessage(await cancelTransfer(deps, ctx, id, reason)) };
    },
  },
} satisfies InventoryRpcs;

function failLossReason(value: number): never {
  throw invalid('loss_reason', `must be DAMAGED, EXPIRED or LOST, got ${value}`);
}
