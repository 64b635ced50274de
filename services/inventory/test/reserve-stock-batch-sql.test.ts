import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from '#test/support/test-database.js';
import { inventoryMigrations } from '../migrations/index.js';

/**
 * The grant rule of reserve_stock_batch (data/sql/reserve_stock_batch.sql),
 * called directly with a batch as data/reservations.ts sends it, on a fresh
 * database migrated to latest: who gets stock, and what is left for whom.
 * (Through the coalescer and the gRPC API: reservation-batches.test.ts.)
 */

type Verdict = Record<string, unknown>;
interface Line {
  product: string;
  quantity: number;
}

describe('reserve_stock_batch (the SQL function)', function () {
  this.timeout(60_000);
  let database: TestDatabase;

  before(async () => {
    database = await createTestDatabase('inventory_reserve_sql', inventoryMigrations);
  });
  after(async () => database?.drop());

  /** A product with `available` units at 2.50 EUR. */
  async function product(available: number, options: { threshold?: number; deleted?: boolean } = {}): Promise<string> {
    const id = randomUUID();
    const now = new Date();
    await database.db('products').insert({
      id,
      sku: `sku-${id}`,
      name: 'Oat milk',
      price_minor: 250,
      currency_code: 'EUR',
      low_stock_threshold: options.threshold ?? 0,
      created_at: now,
      updated_at: now,
      deleted_at: options.deleted ? now : null,
    });
    await database.db('stock_levels').insert({ product_id: id, available, updated_at: now });
    return id;
  }

  /** One member as reserveBatch encodes it; the hash stands for the request's items. */
  function member(lines: Line[], orderId: string = randomUUID()) {
    const now = new Date();
    return {
      order_id: orderId,
      hash: JSON.stringify(lines),
      now: now.toISOString(),
      expires_at: new Date(now.getTime() + 60_000).toISOString(),
      items: [...lines].sort((a, b) => a.product.localeCompare(b.product)).map((l) => ({ p: l.product, q: l.quantity })),
      event: {
        id: randomUUID(),
        subject: 'inventory.reservation.reserved',
        type: 'ReservationReserved',
        cid: null,
        tc: null,
        metadata: '',
        reservation: '',
      },
      low: { subject: 'inventory.stock.low', type: 'StockLow' },
    };
  }
  type Member = ReturnType<typeof member>;
  const one = (productId: string, quantity: number, orderId?: string) => member([{ product: productId, quantity }], orderId);

  /**
   * The verdicts, without what only routing decides: members here name no
   * candidates (as the release before locations sent them), so each is at the
   * default location, and its allocation lines (`alloc`) and a short member's
   * per-item `lines` are routing's (locations/routing.test.ts tests those).
   */
  async function reserve(batch: Member[]): Promise<Verdict[]> {
    const { rows } = await database.db.raw<{ rows: { verdicts: Verdict[] }[] }>('select reserve_stock_batch(?::jsonb) as verdicts', [
      JSON.stringify(batch),
    ]);
    return rows[0]!.verdicts.map(({ alloc: _alloc, lines: _lines, ...verdict }) => verdict);
  }

  /** Each verdict's kind: ok, short, same_as, replay, reused, missing, deleted. */
  const kinds = (verdicts: Verdict[]) => verdicts.map((v) => Object.keys(v).find((k) => k !== 'requested' && k !== 'available'));

  async function stock(productId: string): Promise<{ available: number; reserved: number }> {
    const row = await database.db('stock_levels').where({ product_id: productId }).first('available', 'reserved');
    return { available: Number(row.available), reserved: Number(row.reserved) };
  }

  /** The rows a member's order id has: reservations, items, ledger rows, and its reserved event in the outbox. */
  async function written(m: Member): Promise<Record<string, number>> {
    const { rows } = await database.db.raw<{ rows: Record<string, number>[] }>(
      `select (select count(*) from reservations where order_id = ?)::int as reservations,
              (select count(*) from reservation_items where order_id = ?)::int as items,
              (select count(*) from stock_movements where reference = ?)::int as movements,
              (select count(*) from outbox where id = ?)::int as events`,
      [m.order_id, m.order_id, m.order_id, m.event.id],
    );
    return rows[0]!;
  }

  it('grants exactly the stock there is, each member its units, at the catalog price', async () => {
    const p = await product(5);
    const verdicts = await reserve([one(p, 2), one(p, 3), one(p, 1)]);
    expect(verdicts).to.deep.equal([{ ok: [[250, 'EUR']] }, { ok: [[250, 'EUR']] }, { short: p, requested: 1, available: 0 }]);
    expect(await stock(p)).to.deep.equal({ available: 0, reserved: 5 });
  });

  it('grants in the order of the members, as serial single updates would', async () => {
    const first = await product(5);
    const second = await product(5);
    // The same three requests in opposite orders: whoever comes first is served first.
    expect(await reserve([one(first, 3), one(first, 3), one(first, 2)])).to.deep.equal([
      { ok: [[250, 'EUR']] },
      { short: first, requested: 3, available: 2 },
      { ok: [[250, 'EUR']] },
    ]);
    expect(await reserve([one(second, 2), one(second, 3), one(second, 3)])).to.deep.equal([
      { ok: [[250, 'EUR']] },
      { ok: [[250, 'EUR']] },
      { short: second, requested: 3, available: 0 },
    ]);
    expect(await stock(first)).to.deep.equal({ available: 0, reserved: 5 });
    expect(await stock(second)).to.deep.equal({ available: 0, reserved: 5 });
  });

  it('never lets a large request that does not fit block the smaller ones behind it', async () => {
    const p = await product(4);
    const verdicts = await reserve([one(p, 5), one(p, 1), one(p, 9), one(p, 3)]);
    expect(kinds(verdicts)).to.deep.equal(['short', 'ok', 'short', 'ok']);
    expect(verdicts[0]).to.deep.equal({ short: p, requested: 5, available: 4 });
    expect(verdicts[2]).to.deep.equal({ short: p, requested: 9, available: 3 });
    expect(await stock(p)).to.deep.equal({ available: 0, reserved: 4 });
  });

  it('grants a member all its lines or none, and leaves the lines it did not get for later members', async () => {
    const scarce = await product(2);
    const plenty = await product(5);
    const both = member([
      { product: plenty, quantity: 4 },
      { product: scarce, quantity: 3 },
    ]);
    const after = one(plenty, 5);
    const verdicts = await reserve([both, after]);
    expect(verdicts).to.deep.equal([{ short: scarce, requested: 3, available: 2 }, { ok: [[250, 'EUR']] }]);
    // The refused member wrote nothing and moved nothing; the next one had all five of plenty.
    expect(await written(both)).to.deep.equal({ reservations: 0, items: 0, movements: 0, events: 0 });
    expect(await written(after)).to.deep.equal({ reservations: 1, items: 1, movements: 1, events: 1 });
    expect(await stock(scarce)).to.deep.equal({ available: 2, reserved: 0 });
    expect(await stock(plenty)).to.deep.equal({ available: 0, reserved: 5 });
  });

  it('grants the same order twice in one batch once, answers the repeat as the same, and refuses it with other items', async () => {
    const p = await product(10);
    const orderId = randomUUID();
    // Two calls of one request (the same items, so the same hash), each with its own event id.
    const [request, repeat] = [one(p, 3, orderId), one(p, 3, orderId)];
    const verdicts = await reserve([request!, repeat!, one(p, 4, orderId)]);
    expect(verdicts).to.deep.equal([{ ok: [[250, 'EUR']] }, { same_as: 0 }, { reused: true }]);
    expect(await written(request!)).to.deep.equal({ reservations: 1, items: 1, movements: 1, events: 1 });
    expect(await written(repeat!), 'no event of its own').to.include({ events: 0 });
    expect(await stock(p)).to.deep.equal({ available: 7, reserved: 3 });

    // In a later batch the repeat is answered with the stored reservation and moves nothing.
    const [again] = await reserve([one(p, 3, orderId)]);
    expect(again).to.have.nested.property('replay.hash', request!.hash);
    expect(again).to.have.nested.property('replay.status', 'RESERVED');
    expect((again as { replay: { items: unknown } }).replay.items).to.deep.equal([[p, 3, 250, 'EUR']]);
    expect(await stock(p)).to.deep.equal({ available: 7, reserved: 3 });
  });

  it('names an unknown or deleted product before a short one, and grants that member nothing', async () => {
    const short = await product(1);
    const deleted = await product(5, { deleted: true });
    const unknown = randomUUID();
    const verdicts = await reserve([
      member([
        { product: short, quantity: 2 },
        { product: deleted, quantity: 1 },
      ]),
      member([
        { product: short, quantity: 2 },
        { product: unknown, quantity: 1 },
      ]),
      one(short, 1),
    ]);
    expect(verdicts).to.deep.equal([{ deleted }, { missing: unknown }, { ok: [[250, 'EUR']] }]);
    expect(await stock(deleted)).to.deep.equal({ available: 5, reserved: 0 });
    expect(await stock(short)).to.deep.equal({ available: 0, reserved: 1 });
  });
});
