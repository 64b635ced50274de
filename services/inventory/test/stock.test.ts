import { randomUUID } from 'node:crypto';
import { status as Code } from '@grpc/grpc-js';
import { expect } from 'chai';
import { StockLow, StockReplenished } from '#libs/contracts/larder/inventory/v1/events.js';
import { AdjustmentReason } from '#libs/contracts/larder/inventory/v1/resources.js';
import { expectGrpcError, outcomeOf, tally } from '#test/support/grpc-errors.js';
import { findInvariantViolations } from '../data/invariants.js';
import { createTestProduct, startTestInventory, type TestInventory, stockOf as stockOfProduct } from './harness.js';

const {
  ADJUSTMENT_REASON_RESTOCK: RESTOCK,
  ADJUSTMENT_REASON_DAMAGED: DAMAGED,
  ADJUSTMENT_REASON_LOST: LOST,
  ADJUSTMENT_REASON_CORRECTION: CORRECTION,
} = AdjustmentReason;

describe('stock', function () {
  this.timeout(30_000);
  let inv: TestInventory;

  before(async () => {
    inv = await startTestInventory();
    // The first stock row, never changed: a refusal that read another product's row would report its 1000.
    await createTestProduct(inv.api, { initialStock: 1_000 });
  });
  after(async () => inv?.stop());

  afterEach(async () => {
    expect(await findInvariantViolations(inv.db)).to.deep.equal([]);
  });

  const stockOf = (productId: string) => stockOfProduct(inv.api, productId);
  const adjust = (productId: string, delta: number, reason: AdjustmentReason, idempotencyKey: string = randomUUID(), note = '') =>
    inv.api.adjustStock({ productId, delta, reason, idempotencyKey, note });
  const movementsOf = async (productId: string) =>
    Number((await inv.db('stock_movements').where({ product_id: productId }).count<{ count: string }[]>('* as count'))[0]!.count);

  /** Outbox rows of one subject whose decoded payload names this product. */
  async function outboxEvents<T extends { productId: string }>(
    subject: string,
    codec: { decode(input: Uint8Array): T },
    productId: string,
  ): Promise<T[]> {
    const rows: { payload: Buffer }[] = await inv.db('outbox').where({ subject }).orderBy('created_at').select('payload');
    return rows.map((row) => codec.decode(new Uint8Array(row.payload))).filter((event) => event.productId === productId);
  }

  describe('AdjustStock', () => {
    it('restock adds to available', async () => {
      const product = await createTestProduct(inv.api, { initialStock: 10 });
      const { stockLevel } = await adjust(product.id, 5, RESTOCK);
      expect(stockLevel).to.include({ productId: product.id, available: 15, reserved: 0, sold: 0 });
      expect(await stockOf(product.id)).to.include({ available: 15, reserved: 0, sold: 0 });
    });

    it('a write-off (DAMAGED, negative delta) subtracts from available', async () => {
      const product = await createTestProduct(inv.api, { initialStock: 10 });
      const { stockLevel } = await adjust(product.id, -3, DAMAGED);
      expect(stockLevel).to.include({ available: 7, reserved: 0, sold: 0 });
      expect(await stockOf(product.id)).to.include({ available: 7 });
      expect((await adjust(product.id, -7, LOST)).stockLevel).to.include({ available: 0 });
    });

    it('refuses a delta whose sign does not fit the reason, or zero (INVALID_ARGUMENT)', async () => {
      const product = await createTestProduct(inv.api, { initialStock: 10 });
      expect((await expectGrpcError(adjust(product.id, -1, RESTOCK), Code.INVALID_ARGUMENT)).field).to.equal('delta');
      expect((await expectGrpcError(adjust(product.id, 1, DAMAGED), Code.INVALID_ARGUMENT)).field).to.equal('delta');
      expect((await expectGrpcError(adjust(product.id, 0, CORRECTION), Code.INVALID_ARGUMENT)).field).to.equal('delta');
      await expectGrpcError(adjust(randomUUID(), 1, RESTOCK), Code.NOT_FOUND);
      expect(await stockOf(product.id)).to.include({ available: 10 });
    });

    it('refuses a write-off beyond available (FAILED_PRECONDITION, INSUFFICIENT_STOCK) and changes nothing', async () => {
      const product = await createTestProduct(inv.api, { initialStock: 4 });
      const before = await stockOf(product.id);
      const movementsBefore = await movementsOf(product.id);
      const { reason, info } = await expectGrpcError(adjust(product.id, -5, DAMAGED), Code.FAILED_PRECONDITION);
      expect(reason).to.equal('INSUFFICIENT_STOCK');
      expect(info?.metadata).to.include({ product_id: product.id, available: '4' });
      expect(await stockOf(product.id)).to.deep.equal(before);
      expect(await movementsOf(product.id)).to.equal(movementsBefore);
      expect(await outboxEvents('inventory.stock.low', StockLow, product.id)).to.deep.equal([]);
    });

    it('replays the same idempotency_key with the same request: same result, stock changed once', async () => {
      const product = await createTestProduct(inv.api, { initialStock: 10 });
      const key = randomUUID();
      const first = await adjust(product.id, 5, RESTOCK, key, 'delivery 1');
      const again = await adjust(product.id, 5, RESTOCK, key, 'delivery 1');
      expect(again).to.deep.equal(first);
      expect(await stockOf(product.id)).to.include({ available: 15 });

      // Still the first result after the stock moved on.
      await adjust(product.id, -2, DAMAGED);
      const later = await adjust(product.id, 5, RESTOCK, key, 'delivery 1');
      expect(later.stockLevel).to.include({ available: 15 });
      expect(await stockOf(product.id)).to.include({ available: 13 });
      expect(await outboxEvents('inventory.stock.replenished', StockReplenished, product.id)).to.have.length(1);
    });

    it('records the idempotency key as the ledger reference of the adjustment', async () => {
      const product = await createTestProduct(inv.api, { initialStock: 10 });
      const key = randomUUID();
      await adjust(product.id, 5, RESTOCK, key);
      expect(await inv.db('stock_movements').where({ product_id: product.id }).orderBy('id').pluck('reference')).to.deep.equal([null, key]);
    });

    it('changes stock once for 20 concurrent repeats of the same request', async () => {
      const product = await createTestProduct(inv.api, { initialStock: 10 });
      const key = randomUUID();
      const results = await Promise.all(Array.from({ length: 20 }, () => outcomeOf(adjust(product.id, -4, DAMAGED, key))));
      expect(tally(results)).to.deep.equal({ OK: 20 });
      const levels = await Promise.all(Array.from({ length: 3 }, () => adjust(product.id, -4, DAMAGED, key)));
      for (const level of levels) expect(level.stockLevel).to.include({ available: 6, reserved: 0, sold: 0 });
      expect(await stockOf(product.id)).to.include({ available: 6 });
      expect(await inv.db('stock_movements').where({ product_id: product.id, kind: 'ADJUSTMENT' })).to.have.length(1);
    });

    it('gives all 20 concurrent repeats the same result', async () => {
      const product = await createTestProduct(inv.api, { initialStock: 10 });
      const key = randomUUID();
      const results = await Promise.all(Array.from({ length: 20 }, () => adjust(product.id, 7, RESTOCK, key)));
      for (const result of results) expect(result).to.deep.equal(results[0]);
      expect(results[0]!.stockLevel).to.include({ available: 17 });
      expect(await stockOf(product.id)).to.include({ available: 17 });
    });

    it('refuses the same idempotency_key with a different request (ALREADY_EXISTS, IDEMPOTENCY_KEY_REUSED)', async () => {
      const product = await createTestProduct(inv.api, { initialStock: 10 });
      const other = await createTestProduct(inv.api, { initialStock: 10 });
      const key = randomUUID();
      await adjust(product.id, 5, RESTOCK, key);
      for (const [productId, delta, reason] of [
        [product.id, 6, RESTOCK],
        [product.id, 5, CORRECTION],
        [other.id, 5, RESTOCK],
      ] as const) {
        const { reason: why } = await expectGrpcError(adjust(productId, delta, reason, key), Code.ALREADY_EXISTS);
        expect(why).to.equal('IDEMPOTENCY_KEY_REUSED');
      }
      expect(await stockOf(product.id)).to.include({ available: 15 });
      expect(await stockOf(other.id)).to.include({ available: 10 });
    });

    it('a failed request does not use up its key: a valid retry with it later succeeds', async () => {
      const product = await createTestProduct(inv.api, { initialStock: 10 });
      const key = randomUUID();
      await expectGrpcError(adjust(product.id, -20, DAMAGED, key), Code.FAILED_PRECONDITION);
      await adjust(product.id, 15, RESTOCK);
      const { stockLevel } = await adjust(product.id, -20, DAMAGED, key);
      expect(stockLevel).to.include({ available: 5 });
      expect(await stockOf(product.id)).to.include({ available: 5 });
      // And now it is used: a repeat replays, a different request is refused.
      expect((await adjust(product.id, -20, DAMAGED, key)).stockLevel).to.include({ available: 5 });
      await expectGrpcError(adjust(product.id, -1, DAMAGED, key), Code.ALREADY_EXISTS);
      expect(await stockOf(product.id)).to.include({ available: 5 });
    });

    it('CORRECTION accepts both signs', async () => {
      const product = await createTestProduct(inv.api, { initialStock: 10 });
      expect((await adjust(product.id, 4, CORRECTION)).stockLevel).to.include({ available: 14 });
      expect((await adjust(product.id, -6, CORRECTION)).stockLevel).to.include({ available: 8 });
      await expectGrpcError(adjust(product.id, -9, CORRECTION), Code.FAILED_PRECONDITION);
      expect(await stockOf(product.id)).to.include({ available: 8 });
    });

    it('sets low_stock once available is at or below low_stock_threshold', async () => {
      const product = await createTestProduct(inv.api, { initialStock: 8, lowStockThreshold: 5 });
      expect(product.stockLevel!.lowStock).to.equal(false);
      expect((await adjust(product.id, -2, DAMAGED)).stockLevel).to.include({ available: 6, lowStock: false });
      expect((await adjust(product.id, -1, DAMAGED)).stockLevel).to.include({ available: 5, lowStock: true });
      expect(await stockOf(product.id)).to.include({ available: 5, lowStock: true });
      expect((await adjust(product.id, -5, DAMAGED)).stockLevel).to.include({ available: 0, lowStock: true });
      expect((await adjust(product.id, 6, RESTOCK)).stockLevel).to.include({ available: 6, lowStock: false });
      expect(await stockOf(product.id)).to.include({ available: 6, lowStock: false });
    });

    it("writes 'inventory.stock.replenished' to the outbox for a restock", async () => {
      const product = await createTestProduct(inv.api, { initialStock: 10 });
      await adjust(product.id, 12, RESTOCK);
      const replenished = await outboxEvents('inventory.stock.replenished', StockReplenished, product.id);
      expect(replenished).to.have.length(1);
      expect(replenished[0]).to.include({ productId: product.id, quantity: 12 });
      expect(replenished[0]!.stockLevel).to.include({ productId: product.id, available: 22 });
      // A write-off replenishes nothing; an upward correction does.
      await adjust(product.id, -1, DAMAGED);
      await adjust(product.id, -1, CORRECTION);
      expect(await outboxEvents('inventory.stock.replenished', StockReplenished, product.id)).to.have.length(1);
      await adjust(product.id, 3, CORRECTION);
      const after = await outboxEvents('inventory.stock.replenished', StockReplenished, product.id);
      expect(after.map((e) => e.quantity)).to.deep.equal([12, 3]);
    });

    it("writes 'inventory.stock.low' exactly once, when a write-off crosses the threshold", async () => {
      const product = await createTestProduct(inv.api, { initialStock: 10, lowStockThreshold: 5 });
      await adjust(product.id, -3, DAMAGED); // 7: above
      expect(await outboxEvents('inventory.stock.low', StockLow, product.id)).to.deep.equal([]);
      await adjust(product.id, -3, DAMAGED); // 4: crosses
      await adjust(product.id, -1, LOST); // 3: still low
      await adjust(product.id, 1, RESTOCK); // 4: still low
      const low = await outboxEvents('inventory.stock.low', StockLow, product.id);
      expect(low).to.have.length(1);
      expect(low[0]).to.include({ productId: product.id, available: 4, lowStockThreshold: 5 });
    });

    it("writes 'inventory.stock.low' once when 10 concurrent write-offs cross the threshold", async () => {
      const product = await createTestProduct(inv.api, { initialStock: 10, lowStockThreshold: 5 });
      const outcomes = await Promise.all(Array.from({ length: 10 }, () => outcomeOf(adjust(product.id, -1, DAMAGED))));
      expect(tally(outcomes)).to.deep.equal({ OK: 10 });
      expect(await stockOf(product.id)).to.include({ available: 0, lowStock: true });
      const low = await outboxEvents('inventory.stock.low', StockLow, product.id);
      expect(low.map((e) => e.available)).to.deep.equal([5]);
    });
  });

  describe('BatchGetStockLevels', () => {
    it('returns the levels in the order of the request', async () => {
      const [a, b, c] = await Promise.all([3, 5, 7].map((initialStock) => createTestProduct(inv.api, { initialStock })));
      const { stockLevels } = await inv.api.batchGetStockLevels({ productIds: [c!.id, a!.id, b!.id] });
      expect(stockLevels.map((s) => s.productId)).to.deep.equal([c!.id, a!.id, b!.id]);
      expect(stockLevels.map((s) => s.available)).to.deep.equal([7, 3, 5]);
      const reversed = await inv.api.batchGetStockLevels({ productIds: [b!.id, a!.id, c!.id] });
      expect(reversed.stockLevels.map((s) => s.available)).to.deep.equal([5, 3, 7]);
    });

    it('says when the stock last changed, not when the product did', async () => {
      const product = await createTestProduct(inv.api, { initialStock: 2 });
      await new Promise((resolve) => setTimeout(resolve, 20));
      const { stockLevel } = await adjust(product.id, 3, RESTOCK);
      expect(stockLevel!.updateTime!.getTime()).to.be.greaterThan(product.updateTime!.getTime());
      expect((await stockOf(product.id)).updateTime).to.deep.equal(stockLevel!.updateTime);
    });

    it('includes soft-deleted products', async () => {
      const live = await createTestProduct(inv.api, { initialStock: 2 });
      const deleted = await createTestProduct(inv.api, { initialStock: 9 });
      await inv.api.deleteProduct({ id: deleted.id });
      const { stockLevels } = await inv.api.batchGetStockLevels({ productIds: [deleted.id, live.id] });
      expect(stockLevels.map((s) => [s.productId, s.available])).to.deep.equal([
        [deleted.id, 9],
        [live.id, 2],
      ]);
    });

    it('is NOT_FOUND when any id is unknown', async () => {
      const product = await createTestProduct(inv.api, { initialStock: 1 });
      const unknown = randomUUID();
      const { error } = await expectGrpcError(inv.api.batchGetStockLevels({ productIds: [product.id, unknown] }), Code.NOT_FOUND);
      expect(error.details).to.include(unknown);
      await expectGrpcError(inv.api.batchGetStockLevels({ productIds: [unknown] }), Code.NOT_FOUND);
    });

    it('refuses an empty list and repeated ids (INVALID_ARGUMENT)', async () => {
      const product = await createTestProduct(inv.api, { initialStock: 1 });
      await expectGrpcError(inv.api.batchGetStockLevels({ productIds: [] }), Code.INVALID_ARGUMENT);
      await expectGrpcError(inv.api.batchGetStockLevels({ productIds: [product.id, product.id] }), Code.INVALID_ARGUMENT);
    });
  });
});
