import { plainInventoryDeps } from '../plain-deps.js';
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from '#test/support/test-database.js';
import { findInvariantViolations } from '../data/invariants.js';
import { findReservation } from '../data/reservations.js';
import { settleBatch } from '../data/settlement.js';
import type { SettledStatus, SettlementMember } from '../domain/reservation-types.js';
import type { InventoryDeps } from '../domain/deps.js';
import { naturalBatches } from '#libs/batching/natural-batches.js';
import { reserveStock } from '../domain/reservations/reserve-stock.js';
import { settleReservation } from '../domain/reservations/settle-reservation.js';
import { reservationCommitted, reservationReleased } from '../contract/events.js';
import { inventoryMigrations } from '../migrations/index.js';
import { createTestProduct, startTestInventory } from './harness.js';

/** Coalesced commits and releases (data/settlement.ts settleBatch), in-process on a real database. */
describe('settlement batches', function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let deps: InventoryDeps;

  before(async () => {
    database = await createTestDatabase('inventory_settle_batches', inventoryMigrations);
    deps = { ...plainInventoryDeps(database.db), defaultReservationTtlMs: 60_000 };
  });
  after(async () => database?.drop());

  async function product(available = 100): Promise<string> {
    const id = randomUUID();
    const now = new Date();
    await database
      .db('products')
      .insert({ id, sku: `SB-${id}`, name: 'Rye', price_minor: 300, currency_code: 'EUR', created_at: now, updated_at: now });
    await database.db('stock_levels').insert({ product_id: id, available, updated_at: now });
    return id;
  }

  async function reserved(items: { productId: string; quantity: number }[]): Promise<string> {
    const orderId = randomUUID();
    await reserveStock(deps, {}, { orderId, items });
    return orderId;
  }

  async function member(orderId: string, status: Exclude<SettledStatus, 'EXPIRED'>): Promise<SettlementMember> {
    const now = new Date();
    const current = (await findReservation(database.db, orderId))!;
    const reservation = { ...current, status, releaseReason: status === 'RELEASED' ? 'changed mind' : undefined, updatedAt: now };
    const event = status === 'COMMITTED' ? reservationCommitted({ now }, reservation) : reservationReleased({ now }, reservation);
    return { reservation, status, event, now };
  }

  const stock = (productId: string) => database.db('stock_levels').where({ product_id: productId }).first('available', 'reserved', 'sold');
  const ledger = (orderId: string) => database.db('stock_movements').where({ reference: orderId }).orderBy('id').pluck('kind');
  /** Settlement events whose payload names the order (the Reservation message carries its id as text). */
  const events = (orderId: string): Promise<string[]> =>
    database
      .db('outbox')
      .whereNot('subject', 'inventory.reservation.reserved')
      .whereRaw('position(?::bytea in payload) > 0', [Buffer.from(orderId)])
      .pluck('subject');

  it('commits and releases on shared products in one statement: each stock row moves by the batch total, each member gets its ledger rows and event', async () => {
    const [a, b] = [await product(), await product()];
    const first = await reserved([
      { productId: a, quantity: 3 },
      { productId: b, quantity: 1 },
    ]);
    const second = await reserved([{ productId: a, quantity: 2 }]);
    const third = await reserved([{ productId: b, quantity: 4 }]);
    const moved = await settleBatch(database.db, [
      await member(first, 'COMMITTED'),
      await member(second, 'COMMITTED'),
      await member(third, 'RELEASED'),
    ]);
    expect(moved).to.deep.equal([true, true, true]);
    expect(await stock(a)).to.deep.equal({ available: 95, reserved: 0, sold: 5 });
    expect(await stock(b)).to.deep.equal({ available: 99, reserved: 0, sold: 1 });
    expect(await ledger(first)).to.deep.equal(['RESERVE', 'RESERVE', 'COMMIT', 'COMMIT']);
    expect(await ledger(second)).to.deep.equal(['RESERVE', 'COMMIT']);
    expect(await ledger(third)).to.deep.equal(['RESERVE', 'RELEASE']);
    expect(await events(first)).to.deep.equal(['inventory.reservation.committed']);
    expect(await events(third)).to.deep.equal(['inventory.reservation.released']);
    expect((await findReservation(database.db, third))!).to.include({ status: 'RELEASED', releaseReason: 'changed mind' });
  });

  it('the same order twice in one batch is settled once: the second gets false and decides again', async () => {
    const a = await product();
    const orderId = await reserved([{ productId: a, quantity: 2 }]);
    const twice = await member(orderId, 'COMMITTED');
    expect(await settleBatch(database.db, [twice, { ...twice }])).to.deep.equal([true, false]);
    expect(await stock(a)).to.deep.equal({ available: 98, reserved: 0, sold: 2 });
    expect(await ledger(orderId)).to.deep.equal(['RESERVE', 'COMMIT']);
  });

  it('a member no longer RESERVED gets false and writes nothing; the rest of its batch moves', async () => {
    const a = await product();
    const settledBefore = await reserved([{ productId: a, quantity: 1 }]);
    const stale = await member(settledBefore, 'COMMITTED');
    await settleReservation(deps, {}, settledBefore, 'RELEASED', 'first');
    const fresh = await reserved([{ productId: a, quantity: 5 }]);
    expect(await settleBatch(database.db, [stale, await member(fresh, 'COMMITTED')])).to.deep.equal([false, true]);
    expect(await stock(a)).to.deep.equal({ available: 95, reserved: 0, sold: 5 });
    expect(await ledger(settledBefore)).to.deep.equal(['RESERVE', 'RELEASE']);
  });

  it('a member whose stock row is missing fails alone through the coalescer; the batch around it commits', async () => {
    const [a, gone] = [await product(), await product()];
    const ok1 = await reserved([{ productId: a, quantity: 1 }]);
    const broken = await reserved([{ productId: gone, quantity: 1 }]);
    const ok2 = await reserved([{ productId: a, quantity: 2 }]);
    await database.db('stock_levels').where({ product_id: gone }).delete();
    const members = [await member(ok1, 'COMMITTED'), await member(broken, 'COMMITTED'), await member(ok2, 'RELEASED')];
    // The whole statement refuses: nothing of it is written.
    let refused: unknown;
    await settleBatch(database.db, members).catch((error: unknown) => (refused = error));
    expect(String(refused)).to.equal(`Error: settling reservation ${ok1}, ${broken}, ${ok2}: 1 of the allocation lines have no stock row`);
    expect(await stock(a)).to.deep.equal({ available: 97, reserved: 3, sold: 0 });

    const batches = naturalBatches<SettlementMember, boolean>({
      run: (m) => settleBatch(database.db, m),
      maxBatch: 64,
      maxInFlight: 1,
    });
    const outcomes = await Promise.allSettled(members.map((m) => batches.submit(m)));
    expect(outcomes.map((o) => o.status)).to.deep.equal(['fulfilled', 'rejected', 'fulfilled']);
    expect(await stock(a)).to.deep.equal({ available: 99, reserved: 0, sold: 1 });
    expect((await findReservation(database.db, broken))!.status).to.equal('RESERVED');
  });

  it('300 concurrent commits and releases of one hot product through the service: each settled once, the stock exact', async () => {
    const inv = await startTestInventory();
    try {
      const hot = await createTestProduct(inv.api, { initialStock: 1_000 });
      const orderIds = Array.from({ length: 300 }, () => randomUUID());
      await Promise.all(orderIds.map((orderId) => inv.api.reserveStock({ orderId, items: [{ productId: hot.id, quantity: 2 }] })));
      // Every order settled twice at once (a retried call), commits for even ones, releases for odd ones.
      await Promise.all(
        orderIds.flatMap((orderId, i) =>
          [1, 2].map(() => (i % 2 === 0 ? inv.api.commitReservation({ orderId }) : inv.api.releaseReservation({ orderId, reason: 'odd' }))),
        ),
      );
      const row = await inv.db('stock_levels').where({ product_id: hot.id }).first('available', 'reserved', 'sold');
      expect(row).to.deep.equal({ available: 1_000 - 300, reserved: 0, sold: 300 });
      const kinds: { kind: string; n: string }[] = await inv
        .db('stock_movements')
        .where({ product_id: hot.id })
        .groupBy('kind')
        .select('kind')
        .count({ n: '*' });
      expect(Object.fromEntries(kinds.map((k) => [k.kind, Number(k.n)]))).to.include({
        RESERVE: 300,
        COMMIT: 150,
        RELEASE: 150,
      });
      expect(await findInvariantViolations(inv.db)).to.deep.equal([]);
    } finally {
      await inv.stop();
    }
  });
});
