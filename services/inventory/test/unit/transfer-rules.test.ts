import { expect } from 'chai';
import { expectAppError } from '#test/support/expect-app-error.js';
import {
  readReceipt,
  receivingChanges,
  refuseShortLines,
  returningChanges,
  sendingChanges,
  transferRequestHash,
} from '../../domain/transfers/transfer-rules.js';
import type { StoredTransfer } from '../../domain/transfer-types.js';
import type { StockRecord } from '../../domain/types.js';

const [A, B] = ['00000000-0000-4000-8000-00000000000a', '00000000-0000-4000-8000-00000000000b'];
const [FROM, TO] = ['10000000-0000-4000-8000-000000000000', '20000000-0000-4000-8000-000000000000'];
const now = new Date('2026-12-07T00:00:00Z');
const sent = [
  { productId: A, quantity: 5 },
  { productId: B, quantity: 2 },
];
const transfer: StoredTransfer = {
  id: 't-1',
  fromLocationId: FROM,
  toLocationId: TO,
  status: 'IN_TRANSIT',
  lines: sent,
  idempotencyKey: 'k',
  note: '',
  requestHash: 'h',
  createdAt: now,
  updatedAt: now,
};
const stock = (productId: string, available: number): StockRecord => ({
  productId,
  locationId: FROM,
  available,
  reserved: 0,
  sold: 0,
  safetyStock: 0,
  availableToSell: available,
  inTransit: 0,
  lowStockThreshold: 0,
  updatedAt: now,
});

describe('transfer rules', () => {
  it('a request is the same whatever the order of its lines, and another with any part changed', () => {
    const hash = transferRequestHash(FROM, TO, sent, 'n');
    expect(transferRequestHash(FROM, TO, [...sent].reverse(), 'n')).to.equal(hash);
    expect(transferRequestHash(TO, FROM, sent, 'n')).to.not.equal(hash);
    expect(transferRequestHash(FROM, TO, [{ productId: A, quantity: 4 }, sent[1]!], 'n')).to.not.equal(hash);
    expect(transferRequestHash(FROM, TO, sent, '')).to.not.equal(hash);
  });

  it('refuses every short line (a missing stock row is 0), naming the first and listing all', () => {
    expect(() => refuseShortLines(sent, [stock(A, 5), stock(B, 2)])).to.not.throw();
    const error = expectAppError(() => refuseShortLines(sent, [stock(A, 4)]), 'failedPrecondition');
    expect(error.reason).to.equal('INSUFFICIENT_STOCK');
    expect(error.metadata).to.include({ product_id: A, requested: '5', available: '4' });
    expect(error.violations.map((v) => v.subject)).to.deep.equal([`product/${A}`, `product/${B}`]);
  });

  it('reads a receipt: unlisted lines arrived in full; too many, a stranger, or a loss reason that does not fit are refused', () => {
    expect(readReceipt(sent, [], undefined).lines.map((l) => l.receivedQuantity)).to.deep.equal([5, 2]);
    expect(readReceipt(sent, [{ productId: B, quantity: 0 }], 'LOST').lines.map((l) => l.receivedQuantity)).to.deep.equal([5, 0]);
    expectAppError(() => readReceipt(sent, [{ productId: A, quantity: 6 }], undefined), 'invalid', 'received[0].quantity');
    expectAppError(() => readReceipt(sent, [{ productId: TO, quantity: 1 }], undefined), 'invalid', 'received[0].product_id');
    expectAppError(() => readReceipt(sent, [{ productId: A, quantity: 4 }], undefined), 'invalid', 'loss_reason');
    expectAppError(() => readReceipt(sent, [{ productId: A, quantity: 5 }], 'DAMAGED'), 'invalid', 'loss_reason');
  });

  it('the same receipt has the same fingerprint however it is written; another has another', () => {
    const full = readReceipt(sent, [], undefined).hash;
    expect(readReceipt(sent, [{ productId: B, quantity: 2 }], undefined).hash).to.equal(full);
    expect(readReceipt(sent, [{ productId: B, quantity: 1 }], 'LOST').hash).to.not.equal(
      readReceipt(sent, [{ productId: B, quantity: 1 }], 'DAMAGED').hash,
    );
  });

  it('every step keeps received = available + reserved + sold + in_transit at each end (the ledger convention)', () => {
    const receipt = readReceipt(sent, [{ productId: A, quantity: 3 }], 'DAMAGED');
    for (const changes of [sendingChanges(transfer), returningChanges(transfer), receivingChanges({ ...transfer, lines: receipt.lines })]) {
      const received = changes.movements
        .map((m) =>
          ['INITIAL', 'ADJUSTMENT', 'TRANSFER_IN'].includes(m.kind)
            ? m.availableDelta
            : ['TRANSFER_DELIVERED', 'TRANSFER_LOST'].includes(m.kind)
              ? m.inTransitDelta!
              : 0,
        )
        .reduce((a, b) => a + b, 0);
      const counters = changes.movements.map((m) => m.availableDelta + m.inTransitDelta!).reduce((a, b) => a + b, 0);
      const deltas = changes.deltas.map((d) => d.availableDelta + d.inTransitDelta).reduce((a, b) => a + b, 0);
      expect(received).to.equal(counters);
      expect(deltas, 'the stock deltas are what the ledger says').to.equal(counters);
    }
  });
});
