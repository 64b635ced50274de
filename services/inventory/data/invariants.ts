import type { Knex } from 'knex';

export interface InvariantViolation {
  productId: string;
  sku: string;
  /** The location's code: the invariant holds per (product, location). */
  location: string;
  problem: string;
}

interface Row {
  product_id: string;
  sku: string;
  location: string;
  available: number;
  reserved: number;
  sold: number;
  safety_stock: number;
  in_transit: number;
  ledger_available: number | null;
  ledger_reserved: number | null;
  ledger_sold: number | null;
  ledger_in_transit: number | null;
  received: number | null;
  held: number | null;
  shipping: number | null;
}

/**
 * docs/design.md §2's conservation invariant, per (product, location) since §8,
 * in one consistent snapshot (REPEATABLE READ, read only), so it can run against
 * live traffic:
 *   initial + restocks − write-offs + transfers received − transfers sent away (delivered or lost)
 *     = available + reserved + sold + in_transit,
 *   available, reserved, sold, in_transit, safety stock ≥ 0,
 *   reserved = Σ allocation lines of RESERVED reservations there,
 *   in_transit = Σ lines of the IN_TRANSIT transfers sent from there,
 *   and the ledger's running totals equal the stock row.
 * Safety stock is a setting, not a bucket: it is part of available.
 */
export async function findInvariantViolations(db: Knex): Promise<InvariantViolation[]> {
  return db.transaction(
    async (trx) => {
      const { rows } = await trx.raw<{ rows: Row[] }>(`
        select s.product_id, p.sku, l.code as location, s.available, s.reserved, s.sold, s.safety_stock, s.in_transit,
               m.available as ledger_available, m.reserved as ledger_reserved, m.sold as ledger_sold,
               m.in_transit as ledger_in_transit, m.received, h.held, t.shipping
          from stock_levels s
          join products p on p.id = s.product_id
          join locations l on l.id = s.location_id
          left join (
            select product_id, location_id,
                   sum(available_delta)::bigint as available,
                   sum(reserved_delta)::bigint as reserved,
                   sum(sold_delta)::bigint as sold,
                   sum(in_transit_delta)::bigint as in_transit,
                   (coalesce(sum(available_delta) filter (where kind in ('INITIAL', 'ADJUSTMENT', 'TRANSFER_IN')), 0)
                    + coalesce(sum(in_transit_delta) filter (where kind in ('TRANSFER_DELIVERED', 'TRANSFER_LOST')), 0))::bigint as received
              from stock_movements group by product_id, location_id
          ) m on m.product_id = s.product_id and m.location_id = s.location_id
          left join (
            select i.product_id, i.location_id, sum(i.quantity)::bigint as held
              from reservation_items i join reservations r on r.order_id = i.order_id
             where r.status = 'RESERVED' group by i.product_id, i.location_id
          ) h on h.product_id = s.product_id and h.location_id = s.location_id
          left join (
            select tl.product_id, t.from_location_id as location_id, sum(tl.quantity)::bigint as shipping
              from transfer_lines tl join transfers t on t.id = tl.transfer_id
             where t.status = 'IN_TRANSIT' group by tl.product_id, t.from_location_id
          ) t on t.product_id = s.product_id and t.location_id = s.location_id
         order by p.sku, l.code`);
      const violations: InvariantViolation[] = [];
      for (const row of rows) {
        const report = (problem: string) => violations.push({ productId: row.product_id, sku: row.sku, location: row.location, problem });
        const total = row.available + row.reserved + row.sold + row.in_transit;
        if (row.available < 0 || row.reserved < 0 || row.sold < 0 || row.in_transit < 0 || row.safety_stock < 0) {
          report(
            `negative stock: available ${row.available}, reserved ${row.reserved}, sold ${row.sold}, in transit ${row.in_transit}, safety ${row.safety_stock}`,
          );
        }
        if ((row.received ?? 0) !== total) {
          report(
            `received ${row.received ?? 0} (initial + adjustments + transfers) but available + reserved + sold + in transit = ${total}`,
          );
        }
        if ((row.held ?? 0) !== row.reserved) report(`reserved ${row.reserved} but RESERVED reservations hold ${row.held ?? 0}`);
        if ((row.shipping ?? 0) !== row.in_transit)
          report(`in transit ${row.in_transit} but IN_TRANSIT transfers carry ${row.shipping ?? 0}`);
        if (
          (row.ledger_available ?? 0) !== row.available ||
          (row.ledger_reserved ?? 0) !== row.reserved ||
          (row.ledger_sold ?? 0) !== row.sold ||
          (row.ledger_in_transit ?? 0) !== row.in_transit
        ) {
          report(
            `ledger says available ${row.ledger_available ?? 0}, reserved ${row.ledger_reserved ?? 0}, sold ${row.ledger_sold ?? 0}, ` +
              `in transit ${row.ledger_in_transit ?? 0}; stock row says ${row.available}, ${row.reserved}, ${row.sold}, ${row.in_transit}`,
          );
        }
      }
      return violations;
    },
    { isolationLevel: 'repeatable read', readOnly: true },
  );
}

export async function countProducts(db: Knex): Promise<number> {
  const row = await db('products').count<{ count: string | number }[]>('* as count').first();
  return Number(row?.count ?? 0);
}
