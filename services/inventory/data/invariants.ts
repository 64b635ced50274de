import type { Knex } from 'knex';

export interface InvariantViolation {
  productId: string;
  sku: string;
  problem: string;
}

interface Row {
  product_id: string;
  sku: string;
  available: number;
  reserved: number;
  sold: number;
  ledger_available: number | null;
  ledger_reserved: number | null;
  ledger_sold: number | null;
  received: number | null;
  held: number | null;
}

/**
 * docs/design.md §2's conservation invariant, per product, in one consistent snapshot
 * (REPEATABLE READ, read only), so it can run against live traffic:
 *   initial + restocks − write-offs = available + reserved + sold,
 *   available, reserved, sold ≥ 0,
 *   reserved = Σ quantities of RESERVED reservations,
 *   and the ledger's running totals equal the stock row.
 */
export async function findInvariantViolations(db: Knex): Promise<InvariantViolation[]> {
  return db.transaction(
    async (trx) => {
      const { rows } = await trx.raw<{ rows: Row[] }>(`
        select s.product_id, p.sku, s.available, s.reserved, s.sold,
               m.available as ledger_available, m.reserved as ledger_reserved, m.sold as ledger_sold, m.received,
               h.held
          from stock_levels s
          join products p on p.id = s.product_id
          left join (
            select product_id,
                   sum(available_delta)::bigint as available,
                   sum(reserved_delta)::bigint as reserved,
                   sum(sold_delta)::bigint as sold,
                   sum(available_delta) filter (where kind in ('INITIAL', 'ADJUSTMENT'))::bigint as received
              from stock_movements group by product_id
          ) m on m.product_id = s.product_id
          left join (
            select i.product_id, sum(i.quantity)::bigint as held
              from reservation_items i join reservations r on r.order_id = i.order_id
             where r.status = 'RESERVED' group by i.product_id
          ) h on h.product_id = s.product_id
         order by p.sku`);
      const violations: InvariantViolation[] = [];
      for (const row of rows) {
        const report = (problem: string) => violations.push({ productId: row.product_id, sku: row.sku, problem });
        const total = row.available + row.reserved + row.sold;
        if (row.available < 0 || row.reserved < 0 || row.sold < 0)
          report(`negative stock: available ${row.available}, reserved ${row.reserved}, sold ${row.sold}`);
        if ((row.received ?? 0) !== total)
          report(`received ${row.received ?? 0} (initial + adjustments) but available + reserved + sold = ${total}`);
        if ((row.held ?? 0) !== row.reserved) report(`reserved ${row.reserved} but RESERVED reservations hold ${row.held ?? 0}`);
        if (
          (row.ledger_available ?? 0) !== row.available ||
          (row.ledger_reserved ?? 0) !== row.reserved ||
          (row.ledger_sold ?? 0) !== row.sold
        ) {
          report(
            `ledger says available ${row.ledger_available ?? 0}, reserved ${row.ledger_reserved ?? 0}, sold ${row.ledger_sold ?? 0}; ` +
              `stock row says ${row.available}, ${row.reserved}, ${row.sold}`,
          );
        }
      }
      return violations;
    },
    { isolationLevel: 'repeatable read', readOnly: true },
  );
}

export async function countProducts(db: Knex): Promise<number> {
  const row = await db('stock_levels').count<{ count: string | number }[]>('* as count').first();
  return Number(row?.count ?? 0);
}
