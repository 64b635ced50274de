import { randomUUID } from 'node:crypto';
import { status as Code } from '@grpc/grpc-js';
import { expect } from 'chai';
import { ReservationReserved, StockLow } from '#libs/contracts/larder/inventory/v1/events.js';
import { AppError } from '#libs/errors/app-error.js';
import { eventually } from '#test/support/eventually.js';
import { expectGrpcError } from '#test/support/grpc-errors.js';
import { findInvariantViolations } from '../data/invariants.js';
import { reserveBatch } from '../data/reservations.js';
import type { BatchMember, BatchVerdict } from '../domain/reservation-types.js';
import type { InventoryDeps } from '../domain/deps.js';
import { naturalBatches } from '#libs/batching/natural-batches.js';
import { reserveStock, type ReserveStockCommand } from '../domain/reservations/reserve-stock.js';
import type { ReservationRecord } from '../domain/types.js';
import { createTestProduct, startTestInventory, stockOf, type TestInventory } from './harness.js';

/**
 * Batch boundaries, driven through the coalescer itself so members land in one
 * batch deterministically: a first batch is held in the database's doorway, the
 * members queue behind it (one batch in flight), then it is released.
 */
describe('ReserveStock batches (coalescer driven directly)', function () {
  this.timeout(60_000);
  let inv: TestInventory;

  before(async () => {
    inv = await startTestInventory();
  });
  after(async () => inv?.stop());
  afterEach(async () => {
    expect(await findInvariantViolations(inv.db)).to.deep.equal([]);
  });

  /** A coalescer whose first batch waits for release(); sizes records every statement's member count. */
  function heldBatches() {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const sizes: number[] = [];
    const batches = naturalBatches<BatchMember, BatchVerdict>({
      maxBatch: 64,
      maxInFlight: 1,
      run: async (members) => {
        sizes.push(members.length);
        if (sizes.length === 1) await gate;
        return reserveBatch(inv.running.deps.db, members);
      },
    });
    const deps: InventoryDeps = { ...inv.running.deps, reservationBatches: batches };
    return { deps, sizes, release, batches };
  }

  type Outcome = { ok: ReservationRecord } | { error: AppError };
  const settle = (call: Promise<ReservationRecord>): Promise<Outcome> =>
    call.then(
      (ok) => ({ ok }),
      (error: AppError) => ({ error }),
    );

  /** Holds a first batch (on a product of its own), queues `commands` behind it, releases, and returns their outcomes. */
  async function inOneBatch(commands: ReserveStockCommand[]): Promise<{ outcomes: Outcome[]; sizes: number[] }> {
    const held = heldBatches();
    const holder = await createTestProduct(inv.api, { initialStock: 1 });
    const first = settle(reserveStock(held.deps, {}, { orderId: randomUUID(), items: [{ productId: holder.id, quantity: 1 }] }));
    const rest = commands.map((command) => settle(reserveStock(held.deps, {}, command)));
    // Each call routes first (the location directory), then joins the queue.
    await eventually(
      'every member queued behind the held batch',
      () => held.batches.pending === commands.length + 1 || `${held.batches.pending}`,
    );
    held.release();
    const [holderOutcome, ...outcomes] = await Promise.all([first, ...rest]);
    expect(holderOutcome).to.have.property('ok');
    expect(held.batches.pending, 'nothing pending once every member has its answer').to.equal(0);
    return { outcomes, sizes: held.sizes };
  }

  const one = (productId: string, quantity: number, orderId = randomUUID()): ReserveStockCommand => ({
    orderId,
    items: [{ productId, quantity }],
  });
  const granted = (outcomes: Outcome[]) => outcomes.map((o) => ('ok' in o ? 'OK' : o.error.reason));

  it('grants an exact fit to every member of the batch', async () => {
    const product = await createTestProduct(inv.api, { initialStock: 5 });
    const { outcomes, sizes } = await inOneBatch([one(product.id, 2), one(product.id, 3)]);
    expect(sizes).to.deep.equal([1, 2]);
    expect(granted(outcomes)).to.deep.equal(['OK', 'OK']);
    expect(await stockOf(inv.api, product.id)).to.include({ available: 0, reserved: 5 });
  });

  it('refuses the member that is one unit short, naming what is left', async () => {
    const product = await createTestProduct(inv.api, { initialStock: 5 });
    const { outcomes, sizes } = await inOneBatch([one(product.id, 2), one(product.id, 4)]);
    expect(sizes).to.deep.equal([1, 2]);
    expect(granted(outcomes)).to.deep.equal(['OK', 'INSUFFICIENT_STOCK']);
    const { error } = outcomes[1] as { error: AppError };
    expect(error.kind).to.equal('failedPrecondition');
    expect(error.metadata).to.deep.equal({
      product_id: product.id,
      requested: '4',
      available: '3',
      lines: JSON.stringify([{ product_id: product.id, requested: 4, available: 3 }]),
    });
    expect(await stockOf(inv.api, product.id)).to.include({ available: 3, reserved: 2 });
  });

  it('lets a smaller later member have what a larger one could not take', async () => {
    const product = await createTestProduct(inv.api, { initialStock: 5 });
    const { outcomes } = await inOneBatch([one(product.id, 3), one(product.id, 4), one(product.id, 2), one(product.id, 1)]);
    // Serial single UPDATEs in arrival order: 3 fits (2 left), 4 does not, 2 fits (0 left), 1 does not.
    expect(granted(outcomes)).to.deep.equal(['OK', 'INSUFFICIENT_STOCK', 'OK', 'INSUFFICIENT_STOCK']);
    expect((outcomes[1] as { error: AppError }).error.metadata).to.include({ available: '2', requested: '4' });
    expect(await stockOf(inv.api, product.id)).to.include({ available: 0, reserved: 5 });
  });

  it('keeps multi-item members all-or-nothing inside one batch', async () => {
    const a = await createTestProduct(inv.api, { initialStock: 4 });
    const b = await createTestProduct(inv.api, { initialStock: 4 });
    const both = (qa: number, qb: number): ReserveStockCommand => ({
      orderId: randomUUID(),
      items: [
        { productId: b.id, quantity: qb },
        { productId: a.id, quantity: qa },
      ],
    });
    const { outcomes, sizes } = await inOneBatch([both(2, 2), both(1, 3), one(a.id, 2), one(b.id, 2)]);
    expect(sizes).to.deep.equal([1, 4]);
    // The second member is short of b, so it takes none of a either.
    expect(granted(outcomes)).to.deep.equal(['OK', 'INSUFFICIENT_STOCK', 'OK', 'OK']);
    expect(await stockOf(inv.api, a.id)).to.include({ available: 0, reserved: 4 });
    expect(await stockOf(inv.api, b.id)).to.include({ available: 0, reserved: 4 });
  });

  it('makes one reservation of the same order twice in one batch, and refuses it with other items', async () => {
    const product = await createTestProduct(inv.api, { initialStock: 10 });
    const orderId = randomUUID();
    const { outcomes } = await inOneBatch([one(product.id, 3, orderId), one(product.id, 3, orderId), one(product.id, 4, orderId)]);
    expect(granted(outcomes)).to.deep.equal(['OK', 'OK', 'IDEMPOTENCY_KEY_REUSED']);
    const [first, second] = outcomes as { ok: ReservationRecord }[];
    expect(second!.ok).to.deep.equal(first!.ok);
    expect(await stockOf(inv.api, product.id)).to.include({ available: 7, reserved: 3 });
    const counts = await inv.db.raw(
      `select (select count(*) from reservations where order_id = ?) as reservations,
              (select count(*) from stock_movements where reference = ?::text) as movements,
              (select count(*) from outbox where subject = 'inventory.reservation.reserved' and payload::text like ?) as events`,
      [orderId, orderId, `%${Buffer.from(orderId).toString('hex')}%`],
    );
    expect(counts.rows[0]).to.deep.equal({ reservations: 1, movements: 1, events: 1 });
  });

  it('refuses deleted and unknown products alone, and still replays a reservation whose product was deleted since', async () => {
    const kept = await createTestProduct(inv.api, { initialStock: 5 });
    const gone = await createTestProduct(inv.api, { initialStock: 5 });
    const earlier = one(gone.id, 1);
    const before = await reserveStock(inv.running.deps, {}, earlier);
    await inv.api.deleteProduct({ id: gone.id });
    const { outcomes } = await inOneBatch([one(kept.id, 1), one(gone.id, 1), one(randomUUID(), 1), earlier, one(kept.id, 2)]);
    expect(granted(outcomes)).to.deep.equal(['OK', 'PRODUCT_DELETED', 'PRODUCT_NOT_FOUND', 'OK', 'OK']);
    expect((outcomes[1] as { error: AppError }).error.metadata).to.deep.equal({ product_id: gone.id });
    expect((outcomes[3] as { ok: ReservationRecord }).ok.createdAt).to.deep.equal(before.createdAt);
    expect(await stockOf(inv.api, kept.id)).to.include({ available: 2, reserved: 3 });
    expect(await stockOf(inv.api, gone.id)).to.include({ available: 4, reserved: 1 });
  });

  it('fails only the member whose statement fails; the rest of its batch commits', async () => {
    const product = await createTestProduct(inv.api, { initialStock: 10 });
    const doomed = randomUUID();
    // A real statement failure inside the batch, for one order id only.
    await inv.db.raw(`
      create or replace function test_refuse_order() returns trigger language plpgsql as $$
      begin
        if new.order_id = '${doomed}' then raise exception 'test: refusing order %', new.order_id; end if;
        return new;
      end $$;
      create trigger test_refuse_order before insert on reservation_items for each row execute function test_refuse_order();`);
    const statements: string[] = [];
    const listener = (query: { sql: string }) => query.sql.includes('reserve_stock_batch') && statements.push(query.sql);
    inv.running.deps.db.on('query', listener);
    try {
      const { outcomes, sizes } = await inOneBatch([one(product.id, 1), one(product.id, 2, doomed), one(product.id, 3)]);
      // The batch of three failed as a whole, then each member ran alone.
      expect(sizes).to.deep.equal([1, 3, 1, 1, 1]);
      // One statement per run: a failure that is not a concurrent claim of the order id is not retried.
      expect(statements).to.have.length(sizes.length);
      expect(outcomes.map((o) => ('ok' in o ? 'OK' : o.error.message.includes(`test: refusing order ${doomed}`)))).to.deep.equal([
        'OK',
        true,
        'OK',
      ]);
      expect(await stockOf(inv.api, product.id)).to.include({ available: 6, reserved: 4 });
      const held = await inv.db('reservations').where({ order_id: doomed }).first();
      expect(held).to.equal(undefined);

      // A batch of one that fails is that member's answer: it is not run a second time.
      const lone = await inOneBatch([one(product.id, 2, doomed)]);
      expect(lone.sizes).to.deep.equal([1, 1]);
      expect('error' in lone.outcomes[0]!).to.equal(true);
    } finally {
      inv.running.deps.db.off('query', listener);
      await inv.db.raw('drop trigger test_refuse_order on reservation_items; drop function test_refuse_order()');
    }
  });

  it('writes each reservation its priced event and StockLow once, at the member that crossed the threshold', async () => {
    const product = await createTestProduct(inv.api, {
      initialStock: 10,
      lowStockThreshold: 3,
      price: { currencyCode: 'USD', minorUnits: 123_456_789 },
    });
    const commands = [one(product.id, 4), one(product.id, 2), one(product.id, 2), one(product.id, 1)];
    const { outcomes } = await inOneBatch(commands);
    expect(granted(outcomes)).to.deep.equal(['OK', 'OK', 'OK', 'OK']);
    const rows: { subject: string; payload: Buffer; id: string }[] = await inv
      .db('outbox')
      .whereIn('subject', ['inventory.reservation.reserved', 'inventory.stock.low'])
      .select('subject', 'payload', 'id');
    const reserved = rows
      .filter((r) => r.subject === 'inventory.reservation.reserved')
      .map((r) => ReservationReserved.decode(r.payload))
      .filter((e) => commands.some((c) => c.orderId === e.reservation?.orderId));
    expect(reserved).to.have.length(4);
    for (const event of reserved) {
      const ok = (outcomes[commands.findIndex((c) => c.orderId === event.reservation!.orderId)] as { ok: ReservationRecord }).ok;
      expect(event.reservation!.items).to.deep.equal([
        { productId: product.id, quantity: ok.items[0]!.quantity, unitPrice: { currencyCode: 'USD', minorUnits: 123_456_789 } },
      ]);
      expect(event.reservation!.expireTime).to.deep.equal(ok.expiresAt);
      expect(event.metadata!.source).to.equal('inventory');
    }
    // 10 → 6 → 4 → 2 (crossed 3 here) → 1: one StockLow, saying 2.
    const low = rows
      .filter((r) => r.subject === 'inventory.stock.low')
      .map((r) => ({ id: r.id, event: StockLow.decode(r.payload) }))
      .filter((e) => e.event.productId === product.id);
    expect(low.map((e) => ({ available: e.event.available, threshold: e.event.lowStockThreshold }))).to.deep.equal([
      { available: 2, threshold: 3 },
    ]);
    expect(low[0]!.event.metadata!.eventId).to.equal(low[0]!.id);
    // The rest of its envelope is that of the reservation that crossed (the third).
    const crossing = reserved.find((e) => e.reservation!.orderId === commands[2]!.orderId)!;
    expect({ ...low[0]!.event.metadata, eventId: '' }).to.deep.equal({ ...crossing.metadata, eventId: '' });
  });

  it('coalesces concurrent gRPC calls into shared statements', async () => {
    const product = await createTestProduct(inv.api, { initialStock: 1000 });
    const orderIds = Array.from({ length: 100 }, () => randomUUID());
    await Promise.all(orderIds.map((orderId) => inv.api.reserveStock({ orderId, items: [{ productId: product.id, quantity: 1 }] })));
    // Rows one statement wrote share its transaction id.
    const { rows } = await inv.db.raw(
      'select count(distinct xmin::text)::int as statements from reservations where order_id = any(?::uuid[])',
      [orderIds],
    );
    expect(rows[0].statements).to.be.within(1, 99);
    expect(await stockOf(inv.api, product.id)).to.include({ available: 900, reserved: 100 });
    await expectGrpcError(
      inv.api.reserveStock({ orderId: orderIds[0]!, items: [{ productId: product.id, quantity: 2 }] }),
      Code.ALREADY_EXISTS,
    );
  });
});
