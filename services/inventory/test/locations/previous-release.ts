import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';

/**
 * The statements the release before locations (8f780c8) sends to the inventory
 * database, copied from its data layer, so a test can run that release's
 * traffic while migrations 008 and 009 run: it is what still serves during a
 * rolling upgrade. Each names no location.
 */
export const previousRelease = {
  /** CreateProduct: product, its one stock row, its opening ledger row (data/products.ts, stock-levels.ts). */
  async createProduct(db: Knex, initialStock: number): Promise<string> {
    const id = randomUUID();
    const now = new Date();
    await db.transaction(async (trx) => {
      await trx('products').insert({
        id,
        sku: `OLD-${id}`,
        name: `Old release product ${id}`,
        description: '',
        price_minor: 250,
        currency_code: 'EUR',
        low_stock_threshold: 0,
        created_at: now,
        updated_at: now,
      });
      await trx('stock_levels').insert({ product_id: id, available: initialStock, updated_at: now });
      await trx('stock_movements').insert({
        product_id: id,
        kind: 'INITIAL',
        available_delta: initialStock,
        reserved_delta: 0,
        sold_delta: 0,
        created_at: now,
      });
    });
    return id;
  },

  /** GetProduct: the product joined to its one stock row. */
  async getProduct(db: Knex, id: string): Promise<{ available: number; reserved: number }> {
    const row = await db('products as p')
      .join('stock_levels as s', 's.product_id', 'p.id')
      .first('p.id', 's.available', 's.reserved')
      .where('p.id', id);
    if (!row) throw new Error(`product ${id} not found`);
    return row as { available: number; reserved: number };
  },

  /** ReserveStock: one member of reserve_stock_batch as that release built it (no candidates). */
  async reserve(db: Knex, productId: string, quantity: number): Promise<'ok' | 'short'> {
    const now = new Date();
    const member = {
      order_id: randomUUID(),
      hash: randomUUID(),
      now: now.toISOString(),
      expires_at: new Date(now.getTime() + 600_000).toISOString(),
      items: [{ p: productId, q: quantity }],
      event: {
        id: randomUUID(),
        subject: 'inventory.reservation.reserved',
        type: 'larder.inventory.v1.ReservationReserved',
        cid: null,
        tc: null,
        metadata: '',
        reservation: '',
      },
      low: { subject: 'inventory.stock.low', type: 'larder.inventory.v1.StockLow' },
    };
    const { rows } = await db.raw<{ rows: { v: { ok?: unknown; short?: string }[] }[] }>('select reserve_stock_batch(?::jsonb) as v', [
      JSON.stringify([member]),
    ]);
    const verdict = rows[0]!.v[0]!;
    if (verdict.ok) return 'ok';
    if (verdict.short) return 'short';
    throw new Error(`unexpected verdict ${JSON.stringify(verdict)}`);
  },

  /** AdjustStock (restock): the conditional update by product and its ledger row. */
  async restock(db: Knex, productId: string, delta: number): Promise<void> {
    await db.transaction(async (trx) => {
      const now = new Date();
      const moved = await trx('stock_levels')
        .update({ available: trx.raw('available + ?', [delta]), updated_at: now })
        .where({ product_id: productId });
      if (moved !== 1) throw new Error(`restock moved ${moved} rows`);
      await trx('stock_movements').insert({
        product_id: productId,
        kind: 'ADJUSTMENT',
        available_delta: delta,
        reserved_delta: 0,
        sold_delta: 0,
        reference: randomUUID(),
        created_at: now,
      });
    });
  },
};
