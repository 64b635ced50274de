import { AppError, failedPrecondition, invalid } from '#libs/errors/app-error.js';
import { requestHash } from '#libs/idempotency/request-hash.js';
import type { LossReason, StockDelta, StoredTransfer, TransferItem, TransferLineRecord } from '../transfer-types.js';
import type { Movement, StockRecord } from '../types.js';

/**
 * The rules of a transfer's life (docs/transfers.md), pure: what a request
 * means, when it is refused, and which stock deltas and ledger rows each step
 * writes. The use cases in this folder run them inside their transactions.
 */

/** The request a CreateTransfer key stands for; line order does not matter. */
export const transferRequestHash = (from: string, to: string, items: readonly TransferItem[], note: string): string =>
  requestHash([from, to, [...items].sort(byProduct).map((i) => [i.productId, i.quantity]), note]);

export const byProduct = (a: { productId: string }, b: { productId: string }): number =>
  a.productId < b.productId ? -1 : a.productId > b.productId ? 1 : 0;

/**
 * Whether an inactive location may send and receive transfers. Yes: deactivating
 * stops reservations there, while stock can still be moved in or out to fill or
 * empty it (docs/locations.md, as AdjustStock does); a deleted location takes none.
 */
const INACTIVE_TAKES_TRANSFERS = true;

/**
 * A location a transfer touches must exist (NOT_FOUND) and not be deleted
 * (FAILED_PRECONDITION, LOCATION_INACTIVE); `field` names it when the request does.
 */
export function checkLocation(location: { active: boolean; deleted: boolean } | undefined, id: string, field?: string): void {
  if (!location) {
    throw new AppError('notFound', `location ${id} not found`, { reason: 'LOCATION_NOT_FOUND', field, metadata: { id } });
  }
  if (location.deleted || (!location.active && !INACTIVE_TAKES_TRANSFERS)) {
    const state = location.deleted ? 'deleted' : 'inactive';
    throw failedPrecondition(`location ${id} is ${state} and takes no transfers`, {
      reason: 'LOCATION_INACTIVE',
      field,
      metadata: { location_id: id, state },
    });
  }
}

/**
 * The lines the sender cannot cover: each needs `available >= quantity`
 * (units not reserved; safety stock may be sent). A product without a stock
 * row there has 0. One error naming the first short line, with a violation per line.
 */
export function refuseShortLines(items: readonly TransferItem[], senderStock: readonly StockRecord[]): void {
  const available = new Map(senderStock.map((s) => [s.productId, s.available]));
  const short = items
    .map((item) => ({ ...item, available: available.get(item.productId) ?? 0 }))
    .filter((line) => line.available < line.quantity);
  const first = short[0];
  if (!first) return;
  throw failedPrecondition(
    `cannot send ${first.quantity} units of product ${first.productId}: only ${first.available} available at the sender` +
      (short.length > 1 ? ` (and ${short.length - 1} more short lines)` : ''),
    {
      reason: 'INSUFFICIENT_STOCK',
      metadata: { product_id: first.productId, requested: String(first.quantity), available: String(first.available) },
      violations: short.map((line) => ({
        type: 'INSUFFICIENT_STOCK',
        subject: `product/${line.productId}`,
        description: `${line.quantity} requested, ${line.available} available`,
      })),
    },
  );
}

/** What a step writes: the stock deltas (for one conditional statement) and their ledger rows. */
export interface StockChanges {
  deltas: StockDelta[];
  movements: Movement[];
}

/** Creating: available −q, in_transit +q at the sender, one TRANSFER_OUT per line. */
export const sendingChanges = (transfer: StoredTransfer): StockChanges => betweenAvailableAndInTransit(transfer, 'TRANSFER_OUT', -1);

/** Cancelling: in_transit −q, available +q at the sender, one TRANSFER_CANCELLED per line. */
export const returningChanges = (transfer: StoredTransfer): StockChanges => betweenAvailableAndInTransit(transfer, 'TRANSFER_CANCELLED', 1);

/** Each line's units between the sender's available (by `sign`) and its in transit (the other way). */
function betweenAvailableAndInTransit(transfer: StoredTransfer, kind: Movement['kind'], sign: 1 | -1): StockChanges {
  const at = transfer.fromLocationId;
  return {
    deltas: transfer.lines.map((l) => ({
      productId: l.productId,
      locationId: at,
      availableDelta: sign * l.quantity,
      inTransitDelta: -sign * l.quantity,
    })),
    movements: transfer.lines.map((l) => movement(transfer, l.productId, at, kind, sign * l.quantity, -sign * l.quantity)),
  };
}

/**
 * Receiving (lines with receivedQuantity set): in_transit −q at the sender;
 * available +received at the receiver. Ledger per line: TRANSFER_DELIVERED
 * (−received) and, when short, TRANSFER_LOST (−lost) at the sender, TRANSFER_IN
 * (+received) at the receiver; rows of zero are not written.
 */
export function receivingChanges(transfer: StoredTransfer): StockChanges {
  const { fromLocationId: from, toLocationId: to } = transfer;
  const deltas: StockDelta[] = [];
  const movements: Movement[] = [];
  for (const line of transfer.lines) {
    const received = line.receivedQuantity ?? line.quantity;
    const lost = line.quantity - received;
    deltas.push({ productId: line.productId, locationId: from, availableDelta: 0, inTransitDelta: -line.quantity });
    if (received > 0) {
      deltas.push({ productId: line.productId, locationId: to, availableDelta: received, inTransitDelta: 0 });
      movements.push(movement(transfer, line.productId, from, 'TRANSFER_DELIVERED', 0, -received));
      movements.push(movement(transfer, line.productId, to, 'TRANSFER_IN', received, 0));
    }
    if (lost > 0) movements.push(movement(transfer, line.productId, from, 'TRANSFER_LOST', 0, -lost));
  }
  return { deltas, movements };
}

function movement(
  transfer: StoredTransfer,
  productId: string,
  locationId: string,
  kind: Movement['kind'],
  availableDelta: number,
  inTransitDelta: number,
): Movement {
  return { productId, locationId, kind, availableDelta, inTransitDelta, reservedDelta: 0, soldDelta: 0, reference: transfer.id };
}

/** A receipt as the caller gave it, checked against what was sent. */
export interface Receipt {
  /** The transfer's lines with receivedQuantity set (an unlisted line arrived in full). */
  lines: TransferLineRecord[];
  lossReason?: LossReason;
  /** What a repeat of this receipt must match. */
  hash: string;
}

/**
 * Reads a receipt against the transfer's lines: a product not in the transfer,
 * or more than was sent, is INVALID_ARGUMENT naming received[i]; loss_reason is
 * required when anything is short and must be unset otherwise.
 */
export function readReceipt(
  sent: readonly TransferLineRecord[],
  received: readonly TransferItem[],
  lossReason: LossReason | undefined,
): Receipt {
  const quantities = new Map(sent.map((line) => [line.productId, line.quantity]));
  const arrived = new Map<string, number>();
  received.forEach((item, i) => {
    const quantity = quantities.get(item.productId);
    if (quantity === undefined) throw invalid(`received[${i}].product_id`, `product ${item.productId} is not in this transfer`);
    if (item.quantity > quantity) throw invalid(`received[${i}].quantity`, `${item.quantity} is more than the ${quantity} sent`);
    arrived.set(item.productId, item.quantity);
  });
  const lines = sent.map((line) => ({
    productId: line.productId,
    quantity: line.quantity,
    receivedQuantity: arrived.get(line.productId) ?? line.quantity,
  }));
  const short = lines.some((line) => line.receivedQuantity < line.quantity);
  if (short && !lossReason) throw invalid('loss_reason', 'is required when units arrived short (DAMAGED, EXPIRED or LOST)');
  if (!short && lossReason) throw invalid('loss_reason', 'must be unset when everything arrived');
  return { lines, lossReason, hash: requestHash([lines.map((l) => [l.productId, l.receivedQuantity]), lossReason ?? '']) };
}

/** A move the transfer's status does not allow; ErrorInfo metadata names the status. */
export const illegalTransferTransition = (transfer: StoredTransfer, verb: string, why: string): AppError =>
  failedPrecondition(`cannot ${verb} transfer ${transfer.id}: ${why}`, {
    reason: 'ILLEGAL_TRANSFER_TRANSITION',
    metadata: { transfer_id: transfer.id, status: transfer.status },
  });
