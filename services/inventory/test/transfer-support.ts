import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';

/**
 * What the transfer tests share: locations inserted with SQL (the location RPCs
 * are another slice's), stock and ledger read per (product, location), and
 * the conservation invariant per (product, location) with units in transit.
 */

export interface TestLocationFields {
  code?: string;
  active?: boolean;
  deleted?: boolean;
}

/** A location row as CreateLocation would write it (a dark store), returning its id. */
export async function insertTestLocation(db: Knex, fields: TestLocationFields = {}): Promise<string> {
  const id = randomUUID();
  await db('locations').insert({
    id,
    code: fields.code ?? `loc-${id.slice(0, 8)}`,
    name: `Test location ${id.slice(0, 8)}`,
    kind: 'DARK_STORE',
    delivery: true,
    active: fields.active ?? true,
    created_at: db.fn.now(),
    updated_at: db.fn.now(),
    deleted_at: fields.deleted ? db.fn.now() : null,
  });
  return id;
}

export async function defaultLocationId(db: Knex): Promise<string> {
  return (await db('locations').where({ is_default: true }).first('id')).id;
}

export interface StockAt {
  available: number;
  reserved: number;
  sold: number;
  inTransit: number;
  safetyStock: number;
}

/** The stock row of a product at a location (all zero when there is none). */
export async function stockAt(db: Knex, productId: string, locationId: string): Promise<StockAt> {
  const row = await db('stock_levels').where({ product_id: productId, location_id: locationId }).first();
  return {
    available: row?.available ?? 0,
    reserved: row?.reserved ?? 0,
    sold: row?.sold ?? 0,
    inTransit: row?.in_transit ?? 0,
    safetyStock: row?.safety_stock ?? 0,
  };
}

/** The same counters as the ledger sums them (what the stock row must equal). */
export async function ledgerAt(db: Knex, productId: string, locationId: string): Promise<Omit<StockAt, 'safetyStock'>> {
  const row = await db('stock_movements')
    .where({ product_id: productId, location_id: locationId })
    .first(
      db.raw('coalesce(sum(available_delta), 0)::int as available'),
      db.raw('coalesce(sum(reserved_delta), 0)::int as reserved'),
      db.raw('coalesce(sum(sold_delta), 0)::int as sold'),
      db.raw('coalesce(sum(in_transit_delta), 0)::int as in_transit'),
    );
  return { available: row.available, reserved: row.reserved, sold: row.sold, inTransit: row.in_transit };
}

/** Ledger rows of one transfer, as [kind, product, location, available_delta, in_transit_delta], sorted. */
export async function transferLedger(db: Knex, transferId: string): Promise<[string, string, string, number, number][]> {
  const rows: { kind: string; product_id: string; location_id: string; available_delta: number; in_transit_delta: number }[] = await db(
    'stock_movements',
  )
    .where({ reference: transferId })
    .orderBy(['kind', 'product_id', 'location_id'])
    .select('kind', 'product_id', 'location_id', 'available_delta', 'in_transit_delta');
  return rows.map((r) => [r.kind, r.product_id, r.location_id, r.available_delta, r.in_transit_delta]);
}

/**
 * The conservation invariant per (product, location), with units in transit
 * counted at the sender until received (the query proposed for
 * data/invariants.ts), in one REPEATABLE READ snapshot:
 *   Σ available_delta (INITIAL, ADJUSTMENT, TRANSFER_IN) + Σ in_transit_delta (TRANSFER_DELIVERED, TRANSFER_LOST)
 *     = available + reserved + sold + in_transit;
 *   each counter = Σ of its ledger deltas; none negative;
 *   reserved = Σ RESERVED reservation items there; in_transit = Σ lines of IN_TRANSIT transfers sent from there.
 */
export async function findLocationInvariantViolations(db: Knex): Promise<string[]> {
  return db.transaction(
    async (trx) => {
      const { rows } = await trx.raw<{ rows: Record<string, number | string | null>[] }>(`
        select s.product_id, s.location_id, s.available, s.reserved, s.sold, s.in_transit,
               coalesce(m.available, 0)::bigint as ledger_available, coalesce(m.reserved, 0)::bigint as ledger_reserved,
               coalesce(m.sold, 0)::bigint as ledger_sold, coalesce(m.in_transit, 0)::bigint as ledger_in_transit,
               coalesce(m.received, 0)::bigint as received, coalesce(h.held, 0)::bigint as held,
               coalesce(t.sent, 0)::bigint as sent
          from stock_levels s
          left join (
            select product_id, location_id,
                   sum(available_delta) as available, sum(reserved_delta) as reserved, sum(sold_delta) as sold,
                   sum(in_transit_delta) as in_transit,
                   coalesce(sum(available_delta) filter (where kind in ('INITIAL', 'ADJUSTMENT', 'TRANSFER_IN')), 0)
                   + coalesce(sum(in_transit_delta) filter (where kind in ('TRANSFER_DELIVERED', 'TRANSFER_LOST')), 0) as received
              from stock_movements group by product_id, location_id
          ) m on m.product_id = s.product_id and m.location_id = s.location_id
          left join (
            select i.product_id, i.location_id, sum(i.quantity) as held
              from reservation_items i join reservations r on r.order_id = i.order_id
             where r.status = 'RESERVED' group by i.product_id, i.location_id
          ) h on h.product_id = s.product_id and h.location_id = s.location_id
          left join (
            select l.product_id, t.from_location_id as location_id, sum(l.quantity) as sent
              from transfer_lines l join transfers t on t.id = l.transfer_id
             where t.status = 'IN_TRANSIT' group by l.product_id, t.from_location_id
          ) t on t.product_id = s.product_id and t.location_id = s.location_id`);
      const problems: string[] = [];
      for (const r of rows) {
        const at = `${r.product_id}@${r.location_id}`;
        const [available, reserved, sold, inTransit] = [r.available, r.reserved, r.sold, r.in_transit].map(Number) as [
          number,
          number,
          number,
          number,
        ];
        if (available < 0 || reserved < 0 || sold < 0 || inTransit < 0) problems.push(`${at}: a negative counter`);
        if (Number(r.received) !== available + reserved + sold + inTransit)
          problems.push(
            `${at}: received ${r.received} but available + reserved + sold + in_transit = ${available + reserved + sold + inTransit}`,
          );
        if (
          Number(r.ledger_available) !== available ||
          Number(r.ledger_reserved) !== reserved ||
          Number(r.ledger_sold) !== sold ||
          Number(r.ledger_in_transit) !== inTransit
        )
          problems.push(
            `${at}: ledger ${r.ledger_available}/${r.ledger_reserved}/${r.ledger_sold}/${r.ledger_in_transit}, row ${available}/${reserved}/${sold}/${inTransit}`,
          );
        if (Number(r.held) !== reserved) problems.push(`${at}: reserved ${reserved} but RESERVED reservations hold ${r.held}`);
        if (Number(r.sent) !== inTransit) problems.push(`${at}: in_transit ${inTransit} but IN_TRANSIT transfers carry ${r.sent}`);
      }
      return problems;
    },
    { isolationLevel: 'repeatable read', readOnly: true },
  );
}

/** A transfer request with a fresh key. */
export function transferRequest(from: string, to: string, items: { productId: string; quantity: number }[], note = '') {
  return { fromLocationId: from, toLocationId: to, items, idempotencyKey: `transfer-${randomUUID()}`, note };
}
