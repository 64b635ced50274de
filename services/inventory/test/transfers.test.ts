import { randomUUID } from 'node:crypto';
import { status as Code } from '@grpc/grpc-js';
import { expect } from 'chai';
import {
  StockLow,
  StockReplenished,
  TransferCancelled,
  TransferCreated,
  TransferReceived,
} from '#libs/contracts/larder/inventory/v1/events.js';
import { TransferStatus } from '#libs/contracts/larder/inventory/v1/locations.js';
import { AdjustmentReason } from '#libs/contracts/larder/inventory/v1/resources.js';
import { preconditionFailureOf } from '#libs/grpc/status.js';
import { expectGrpcError } from '#test/support/grpc-errors.js';
import { findInvariantViolations } from '../data/invariants.js';
import { createTestProduct, startTestInventory, type TestInventory } from './harness.js';
import { defaultLocationId, insertTestLocation, ledgerAt, stockAt, transferLedger, transferRequest } from './transfer-support.js';

const { TRANSFER_STATUS_IN_TRANSIT: IN_TRANSIT, TRANSFER_STATUS_RECEIVED: RECEIVED, TRANSFER_STATUS_CANCELLED: CANCELLED } = TransferStatus;
const { ADJUSTMENT_REASON_DAMAGED: DAMAGED, ADJUSTMENT_REASON_LOST: LOST, ADJUSTMENT_REASON_RESTOCK: RESTOCK } = AdjustmentReason;

describe('transfers', function () {
  this.timeout(30_000);
  let inv: TestInventory;
  /** The default location: where products are created and AdjustStock and ReserveStock act on this branch. */
  let home: string;
  let store: string;

  before(async () => {
    inv = await startTestInventory();
    home = await defaultLocationId(inv.db);
    store = await insertTestLocation(inv.db);
  });
  after(async () => inv?.stop());
  afterEach(async () => {
    expect(await findInvariantViolations(inv.db)).to.deep.equal([]);
  });

  const at = (productId: string, locationId: string) => stockAt(inv.db, productId, locationId);
  /** Stock and ledger agree at both ends, and are what the test expects. */
  async function expectStock(productId: string, locationId: string, expected: { available: number; inTransit: number }) {
    const stock = await at(productId, locationId);
    expect(stock, `stock of ${productId} at ${locationId}`).to.include(expected);
    expect(await ledgerAt(inv.db, productId, locationId), 'ledger sums').to.include(expected);
  }
  const send = (from: string, to: string, items: { productId: string; quantity: number }[], note = '') =>
    inv.api.createTransfer(transferRequest(from, to, items, note));
  async function outbox<T>(subject: string, codec: { decode(input: Uint8Array): T }): Promise<T[]> {
    const rows: { payload: Buffer }[] = await inv.db('outbox').where({ subject }).orderBy('created_at').select('payload');
    return rows.map((row) => codec.decode(new Uint8Array(row.payload)));
  }
  const counts = async () =>
    Object.fromEntries(
      await Promise.all(
        ['transfers', 'transfer_lines', 'stock_movements', 'stock_levels', 'outbox'].map(async (table) => [
          table,
          Number((await inv.db(table).count<{ count: string }[]>('* as count'))[0]!.count),
        ]),
      ),
    );

  describe('CreateTransfer', () => {
    it('takes the units out of the sender at once into in transit, with TRANSFER_OUT ledger rows and a TransferCreated event', async () => {
      const [a, b] = [await createTestProduct(inv.api, { initialStock: 10 }), await createTestProduct(inv.api, { initialStock: 5 })];
      const request = transferRequest(
        home,
        store,
        [
          { productId: b.id, quantity: 5 },
          { productId: a.id, quantity: 4 },
        ],
        'weekly top-up',
      );
      const { transfer } = await inv.api.createTransfer(request);
      const sorted = [a.id, b.id].sort();
      expect(transfer).to.deep.include({
        fromLocationId: home,
        toLocationId: store,
        status: IN_TRANSIT,
        idempotencyKey: request.idempotencyKey,
        note: 'weekly top-up',
        lossReason: 0,
        cancelReason: '',
      });
      expect(transfer!.lines.map((l) => l.productId)).to.deep.equal(sorted);
      expect(transfer!.lines.find((l) => l.productId === a.id)).to.include({ quantity: 4, receivedQuantity: 0 });
      await expectStock(a.id, home, { available: 6, inTransit: 4 });
      await expectStock(b.id, home, { available: 0, inTransit: 5 });
      expect(await at(a.id, store)).to.include({ available: 0, inTransit: 0 });
      expect(await transferLedger(inv.db, transfer!.id)).to.have.deep.members([
        ['TRANSFER_OUT', a.id, home, -4, 4],
        ['TRANSFER_OUT', b.id, home, -5, 5],
      ]);
      const events = (await outbox('inventory.transfer.created', TransferCreated)).filter((e) => e.transfer!.id === transfer!.id);
      expect(events).to.have.length(1);
      expect(events[0]!.transfer).to.deep.equal(transfer);
      expect((await inv.api.getTransfer({ id: transfer!.id })).transfer).to.deep.equal(transfer);
    });

    it('replays the transfer for a repeat of the same request (lines in any order) and moves nothing again', async () => {
      const [a, b] = [await createTestProduct(inv.api), await createTestProduct(inv.api)];
      const request = transferRequest(home, store, [
        { productId: a.id, quantity: 2 },
        { productId: b.id, quantity: 3 },
      ]);
      const first = (await inv.api.createTransfer(request)).transfer!;
      const before = await counts();
      const again = (await inv.api.createTransfer({ ...request, items: [...request.items].reverse() })).transfer!;
      expect(again).to.deep.equal(first);
      expect(await counts()).to.deep.equal(before);
      await expectStock(a.id, home, { available: 8, inTransit: 2 });
    });

    it('refuses the key with another request (ALREADY_EXISTS, IDEMPOTENCY_KEY_REUSED) and moves nothing', async () => {
      const product = await createTestProduct(inv.api);
      const request = transferRequest(home, store, [{ productId: product.id, quantity: 2 }]);
      await inv.api.createTransfer(request);
      const before = await counts();
      for (const changed of [
        { items: [{ productId: product.id, quantity: 3 }] },
        { note: 'other' },
        { toLocationId: await insertTestLocation(inv.db) },
      ]) {
        const { reason, field } = await expectGrpcError(inv.api.createTransfer({ ...request, ...changed }), Code.ALREADY_EXISTS);
        expect([reason, field]).to.deep.equal(['IDEMPOTENCY_KEY_REUSED', 'idempotency_key']);
      }
      expect(await counts()).to.deep.equal(before);
      await expectStock(product.id, home, { available: 8, inTransit: 2 });
    });

    it('refuses a line the sender cannot cover (FAILED_PRECONDITION, INSUFFICIENT_STOCK): reserved units stay, every short line is named', async () => {
      const [a, b, c] = [
        await createTestProduct(inv.api, { initialStock: 10 }),
        await createTestProduct(inv.api, { initialStock: 3 }),
        await createTestProduct(inv.api, { initialStock: 5 }),
      ];
      await inv.api.reserveStock({ orderId: randomUUID(), items: [{ productId: a.id, quantity: 4 }] });
      const before = await counts();
      const request = transferRequest(home, store, [
        { productId: a.id, quantity: 7 },
        { productId: b.id, quantity: 4 },
        { productId: c.id, quantity: 5 },
      ]);
      const { error, reason, info } = await expectGrpcError(inv.api.createTransfer(request), Code.FAILED_PRECONDITION);
      expect(reason).to.equal('INSUFFICIENT_STOCK');
      const [first, second] = [a.id, b.id].sort() as [string, string];
      const available = { [a.id]: 6, [b.id]: 3 };
      expect(info!.metadata).to.include({ product_id: first, available: String(available[first]) });
      expect(preconditionFailureOf(error)!.violations.map((v) => [v.type, v.subject])).to.deep.equal([
        ['INSUFFICIENT_STOCK', `product/${first}`],
        ['INSUFFICIENT_STOCK', `product/${second}`],
      ]);
      expect(await counts()).to.deep.equal(before);
      // A failed request does not use up its key.
      await inv.api.createTransfer({ ...request, items: [{ productId: a.id, quantity: 6 }] });
      await expectStock(a.id, home, { available: 0, inTransit: 6 });
      expect(await at(a.id, home)).to.include({ reserved: 4 });
    });

    it('counts a product without stock at the sender as 0 available', async () => {
      const product = await createTestProduct(inv.api, { initialStock: 10 });
      const { info } = await expectGrpcError(send(store, home, [{ productId: product.id, quantity: 1 }]), Code.FAILED_PRECONDITION);
      expect(info!.metadata).to.include({ product_id: product.id, available: '0' });
      expect(await inv.db('stock_levels').where({ product_id: product.id, location_id: store })).to.have.length(0);
    });

    it('may send safety stock (it is held back from online sale, not from the chain)', async () => {
      const product = await createTestProduct(inv.api, { initialStock: 10 });
      await inv.db('stock_levels').where({ product_id: product.id, location_id: home }).update({ safety_stock: 8 });
      await send(home, store, [{ productId: product.id, quantity: 10 }]);
      await expectStock(product.id, home, { available: 0, inTransit: 10 });
    });

    it('publishes StockLow at the sender when the transfer takes it to its threshold, once', async () => {
      const product = await createTestProduct(inv.api, { initialStock: 10, lowStockThreshold: 5 });
      await send(home, store, [{ productId: product.id, quantity: 4 }]);
      await send(home, store, [{ productId: product.id, quantity: 1 }]);
      await send(home, store, [{ productId: product.id, quantity: 1 }]);
      const low = (await outbox('inventory.stock.low', StockLow)).filter((e) => e.productId === product.id);
      expect(low.map((e) => [e.locationId, e.available, e.lowStockThreshold])).to.deep.equal([[home, 5, 5]]);
    });

    it('moves stock into and out of an inactive location (a store stocked before it opens, or emptied after it closed)', async () => {
      const product = await createTestProduct(inv.api, { initialStock: 10 });
      const closed = await insertTestLocation(inv.db, { active: false });
      const filled = (await send(home, closed, [{ productId: product.id, quantity: 6 }])).transfer!;
      await inv.api.receiveTransfer({ id: filled.id, received: [], lossReason: 0 });
      await send(closed, home, [{ productId: product.id, quantity: 6 }]);
      await expectStock(product.id, closed, { available: 0, inTransit: 6 });
    });

    it('moves a deleted product (its units are physical)', async () => {
      const product = await createTestProduct(inv.api, { initialStock: 4 });
      await inv.api.deleteProduct({ id: product.id });
      await send(home, store, [{ productId: product.id, quantity: 4 }]);
      await expectStock(product.id, home, { available: 0, inTransit: 4 });
    });

    it('refuses an unknown or deleted location (NOT_FOUND / FAILED_PRECONDITION naming the field) and an unknown product', async () => {
      const product = await createTestProduct(inv.api);
      const deleted = await insertTestLocation(inv.db, { deleted: true });
      const nowhere = randomUUID();
      const items = [{ productId: product.id, quantity: 1 }];
      const before = await counts();
      const cases: [string, string, Code, string, string][] = [
        [nowhere, store, Code.NOT_FOUND, 'LOCATION_NOT_FOUND', 'from_location_id'],
        [home, nowhere, Code.NOT_FOUND, 'LOCATION_NOT_FOUND', 'to_location_id'],
        [deleted, store, Code.FAILED_PRECONDITION, 'LOCATION_INACTIVE', 'from_location_id'],
        [home, deleted, Code.FAILED_PRECONDITION, 'LOCATION_INACTIVE', 'to_location_id'],
      ];
      for (const [from, to, code, expectedReason, expectedField] of cases) {
        const { reason, field } = await expectGrpcError(send(from, to, items), code);
        expect([reason, field], `${from} → ${to}`).to.deep.equal([expectedReason, expectedField]);
      }
      const unknown = randomUUID();
      const { reason, field } = await expectGrpcError(send(home, store, [...items, { productId: unknown, quantity: 1 }]), Code.NOT_FOUND);
      expect([reason, field]).to.deep.equal(['PRODUCT_NOT_FOUND', 'items[1].product_id']);
      expect(await counts()).to.deep.equal(before);
    });
  });

  describe('ReceiveTransfer', () => {
    it('lands every unit at the receiver (creating its stock row) and empties the sender’s in transit; TransferReceived and StockReplenished there', async () => {
      const product = await createTestProduct(inv.api, { initialStock: 10 });
      const sent = (await send(home, store, [{ productId: product.id, quantity: 6 }])).transfer!;
      const { transfer } = await inv.api.receiveTransfer({ id: sent.id, received: [], lossReason: 0 });
      expect(transfer).to.deep.include({ status: RECEIVED, lossReason: 0 });
      expect(transfer!.lines).to.deep.equal([{ productId: product.id, quantity: 6, receivedQuantity: 6 }]);
      await expectStock(product.id, home, { available: 4, inTransit: 0 });
      await expectStock(product.id, store, { available: 6, inTransit: 0 });
      expect(await transferLedger(inv.db, sent.id)).to.deep.equal([
        ['TRANSFER_DELIVERED', product.id, home, 0, -6],
        ['TRANSFER_IN', product.id, store, 6, 0],
        ['TRANSFER_OUT', product.id, home, -6, 6],
      ]);
      const received = (await outbox('inventory.transfer.received', TransferReceived)).filter((e) => e.transfer!.id === sent.id);
      expect(received.map((e) => e.transfer)).to.deep.equal([transfer]);
      const replenished = (await outbox('inventory.stock.replenished', StockReplenished)).filter((e) => e.productId === product.id);
      expect(replenished.map((e) => [e.locationId, e.quantity, e.stockLevel!.available, e.stockLevel!.locationId])).to.deep.equal([
        [store, 6, 6, store],
      ]);
      expect((await inv.api.getTransfer({ id: sent.id })).transfer).to.deep.equal(transfer);
    });

    it('records a short receipt as a loss with its reason (TRANSFER_LOST at the sender), a zero line landing nothing', async () => {
      const [a, b] = [await createTestProduct(inv.api, { initialStock: 10 }), await createTestProduct(inv.api, { initialStock: 10 })];
      await inv.api.adjustStock({ productId: a.id, delta: 1, reason: RESTOCK, idempotencyKey: randomUUID() });
      const sent = (
        await send(home, store, [
          { productId: a.id, quantity: 8 },
          { productId: b.id, quantity: 3 },
        ])
      ).transfer!;
      const { transfer } = await inv.api.receiveTransfer({
        id: sent.id,
        received: [
          { productId: a.id, quantity: 5 },
          { productId: b.id, quantity: 0 },
        ],
        lossReason: DAMAGED,
      });
      expect(transfer).to.deep.include({ status: RECEIVED, lossReason: DAMAGED });
      expect(transfer!.lines.find((l) => l.productId === a.id)).to.include({ quantity: 8, receivedQuantity: 5 });
      await expectStock(a.id, home, { available: 3, inTransit: 0 });
      await expectStock(a.id, store, { available: 5, inTransit: 0 });
      await expectStock(b.id, home, { available: 7, inTransit: 0 });
      expect(await inv.db('stock_levels').where({ product_id: b.id, location_id: store })).to.have.length(0);
      expect(await transferLedger(inv.db, sent.id)).to.have.deep.members([
        ['TRANSFER_OUT', a.id, home, -8, 8],
        ['TRANSFER_OUT', b.id, home, -3, 3],
        ['TRANSFER_DELIVERED', a.id, home, 0, -5],
        ['TRANSFER_LOST', a.id, home, 0, -3],
        ['TRANSFER_LOST', b.id, home, 0, -3],
        ['TRANSFER_IN', a.id, store, 5, 0],
      ]);
      const replenished = (await outbox('inventory.stock.replenished', StockReplenished)).filter(
        (e) => [a.id, b.id].includes(e.productId) && e.locationId === store,
      );
      expect(replenished.map((e) => [e.productId, e.quantity])).to.deep.equal([[a.id, 5]]);
    });

    it('returns the transfer for a repeat of the same receipt, and refuses another receipt (ILLEGAL_TRANSFER_TRANSITION, status RECEIVED)', async () => {
      const product = await createTestProduct(inv.api, { initialStock: 10 });
      const sent = (await send(home, store, [{ productId: product.id, quantity: 4 }])).transfer!;
      const receipt = { id: sent.id, received: [{ productId: product.id, quantity: 3 }], lossReason: LOST };
      const first = (await inv.api.receiveTransfer(receipt)).transfer!;
      const before = await counts();
      expect((await inv.api.receiveTransfer(receipt)).transfer).to.deep.equal(first);
      for (const other of [
        { received: [{ productId: product.id, quantity: 2 }] },
        { lossReason: DAMAGED },
        { received: [], lossReason: 0 },
      ]) {
        const { reason, info } = await expectGrpcError(inv.api.receiveTransfer({ ...receipt, ...other }), Code.FAILED_PRECONDITION);
        expect(reason).to.equal('ILLEGAL_TRANSFER_TRANSITION');
        expect(info!.metadata).to.include({ status: 'RECEIVED', transfer_id: sent.id });
      }
      const { reason } = await expectGrpcError(inv.api.cancelTransfer({ id: sent.id, reason: '' }), Code.FAILED_PRECONDITION);
      expect(reason).to.equal('ILLEGAL_TRANSFER_TRANSITION');
      expect(await counts()).to.deep.equal(before);
    });

    it('refuses more than was sent, a product not in the transfer, and a loss reason that does not fit (INVALID_ARGUMENT naming the field)', async () => {
      const [a, b] = [await createTestProduct(inv.api), await createTestProduct(inv.api)];
      const sent = (await send(home, store, [{ productId: a.id, quantity: 4 }])).transfer!;
      const before = await counts();
      const cases: [Parameters<typeof inv.api.receiveTransfer>[0], string][] = [
        [{ id: sent.id, received: [{ productId: a.id, quantity: 5 }], lossReason: 0 }, 'received[0].quantity'],
        [{ id: sent.id, received: [{ productId: b.id, quantity: 1 }], lossReason: 0 }, 'received[0].product_id'],
        [{ id: sent.id, received: [{ productId: a.id, quantity: 3 }], lossReason: 0 }, 'loss_reason'],
        [{ id: sent.id, received: [], lossReason: DAMAGED }, 'loss_reason'],
        [{ id: sent.id, received: [{ productId: a.id, quantity: 4 }], lossReason: LOST }, 'loss_reason'],
      ];
      for (const [request, expected] of cases) {
        expect((await expectGrpcError(inv.api.receiveTransfer(request), Code.INVALID_ARGUMENT)).field).to.equal(expected);
      }
      expect(await counts()).to.deep.equal(before);
      expect((await inv.api.getTransfer({ id: sent.id })).transfer!.status).to.equal(IN_TRANSIT);
    });

    it('refuses a receiver that was deleted meanwhile (FAILED_PRECONDITION, LOCATION_INACTIVE) and an unknown transfer (NOT_FOUND)', async () => {
      const product = await createTestProduct(inv.api);
      const closing = await insertTestLocation(inv.db);
      const sent = (await send(home, closing, [{ productId: product.id, quantity: 2 }])).transfer!;
      // DeleteLocation refuses while a transfer to it is in transit: this is the backstop behind that rule.
      await inv.db('locations').where({ id: closing }).update({ active: false, deleted_at: new Date() });
      const before = await counts();
      const { reason, info } = await expectGrpcError(
        inv.api.receiveTransfer({ id: sent.id, received: [], lossReason: 0 }),
        Code.FAILED_PRECONDITION,
      );
      expect(reason).to.equal('LOCATION_INACTIVE');
      expect(info!.metadata).to.include({ location_id: closing, state: 'deleted' });
      expect(await counts()).to.deep.equal(before);
      const missing = await expectGrpcError(inv.api.receiveTransfer({ id: randomUUID(), received: [], lossReason: 0 }), Code.NOT_FOUND);
      expect(missing.reason).to.equal('TRANSFER_NOT_FOUND');
      // The way out: cancel it, the units go home.
      await inv.api.cancelTransfer({ id: sent.id, reason: 'store closed' });
      await expectStock(product.id, home, { available: 10, inTransit: 0 });
    });
  });

  describe('CancelTransfer', () => {
    it('returns the units to the sender (TRANSFER_CANCELLED), is idempotent, and a receipt after it is refused', async () => {
      const product = await createTestProduct(inv.api, { initialStock: 10 });
      const sent = (await send(home, store, [{ productId: product.id, quantity: 7 }])).transfer!;
      const { transfer } = await inv.api.cancelTransfer({ id: sent.id, reason: 'truck broke down' });
      expect(transfer).to.deep.include({ status: CANCELLED, cancelReason: 'truck broke down' });
      await expectStock(product.id, home, { available: 10, inTransit: 0 });
      expect(await transferLedger(inv.db, sent.id)).to.deep.equal([
        ['TRANSFER_CANCELLED', product.id, home, 7, -7],
        ['TRANSFER_OUT', product.id, home, -7, 7],
      ]);
      const cancelled = (await outbox('inventory.transfer.cancelled', TransferCancelled)).filter((e) => e.transfer!.id === sent.id);
      expect(cancelled.map((e) => e.transfer)).to.deep.equal([transfer]);
      const replenished = (await outbox('inventory.stock.replenished', StockReplenished)).filter((e) => e.productId === product.id);
      expect(replenished.map((e) => [e.locationId, e.quantity])).to.deep.equal([[home, 7]]);

      const before = await counts();
      expect((await inv.api.cancelTransfer({ id: sent.id, reason: 'again' })).transfer).to.deep.equal(transfer);
      const { reason, info } = await expectGrpcError(
        inv.api.receiveTransfer({ id: sent.id, received: [], lossReason: 0 }),
        Code.FAILED_PRECONDITION,
      );
      expect(reason).to.equal('ILLEGAL_TRANSFER_TRANSITION');
      expect(info!.metadata).to.include({ status: 'CANCELLED' });
      expect(await counts()).to.deep.equal(before);
    });

    it('keeps DeleteLocation away from a location with a transfer in transit to it, until the transfer ends', async () => {
      const product = await createTestProduct(inv.api, { initialStock: 3 });
      const pop = await insertTestLocation(inv.db);
      const sent = (await send(home, pop, [{ productId: product.id, quantity: 3 }])).transfer!;
      const { reason, info } = await expectGrpcError(inv.api.deleteLocation({ id: pop }), Code.FAILED_PRECONDITION);
      expect(reason).to.equal('LOCATION_IN_USE');
      expect(info!.metadata).to.include({ transfers_in_transit: '1' });
      await inv.api.cancelTransfer({ id: sent.id, reason: 'pop-up cancelled' });
      expect((await inv.api.deleteLocation({ id: pop })).location!.deleteTime).to.not.equal(undefined);
      const refused = await expectGrpcError(send(home, pop, [{ productId: product.id, quantity: 1 }]), Code.FAILED_PRECONDITION);
      expect([refused.reason, refused.field]).to.deep.equal(['LOCATION_INACTIVE', 'to_location_id']);
    });

    it('refuses an unknown transfer (NOT_FOUND, TRANSFER_NOT_FOUND); GetTransfer too', async () => {
      expect((await expectGrpcError(inv.api.cancelTransfer({ id: randomUUID(), reason: '' }), Code.NOT_FOUND)).reason).to.equal(
        'TRANSFER_NOT_FOUND',
      );
      expect((await expectGrpcError(inv.api.getTransfer({ id: randomUUID() }), Code.NOT_FOUND)).reason).to.equal('TRANSFER_NOT_FOUND');
    });
  });
});
