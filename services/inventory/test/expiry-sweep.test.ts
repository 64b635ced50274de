import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { ReservationStatus } from '#libs/contracts/larder/inventory/v1/resources.js';
import { recordStatements } from '#test/support/record-statements.js';
import { claimExpired } from '../data/reservations.js';
import type { InventoryDeps } from '../domain/deps.js';
import { expireReservations } from '../domain/reservations/expire-reservations.js';
import { createTestProduct, testInventoryPerSuite, stockOf } from './harness.js';

const { RESERVATION_STATUS_RESERVED: RESERVED, RESERVATION_STATUS_EXPIRED: EXPIRED } = ReservationStatus;

/**
 * One sweep (expireReservations) called directly, on a database of its own, at
 * a clock 2000 s ahead: the service's own sweeper runs on the real clock, so it
 * leaves these reservations (TTL 1000 s and more) alone. Found by mutation
 * testing: the service-level expiry test sees only that a reservation expires.
 */
describe('expiry sweep', function () {
  this.timeout(60_000);
  const inv = testInventoryPerSuite();
  let later: InventoryDeps;
  before(() => {
    later = { ...inv().running.deps, clock: { now: () => new Date(Date.now() + 2_000_000) } };
  });

  const reserve = async (productId: string, ttlSeconds: number) => {
    const orderId = randomUUID();
    await inv().api.reserveStock({ orderId, items: [{ productId, quantity: 1 }], ttl: { seconds: ttlSeconds, nanos: 0 } });
    return orderId;
  };
  const statusOf = async (orderId: string) => (await inv().api.getReservation({ orderId })).reservation!;

  it('expires nothing and answers 0 when nothing is due, with its claim alone (no read of items for no rows)', async () => {
    // On the test's own pool, which the service's sweeper does not use.
    const statements = recordStatements(inv().db);
    try {
      expect(await expireReservations({ ...later, db: inv().db }, 10)).to.equal(0);
    } finally {
      statements.stop();
    }
    expect(
      statements.sql.filter((sql) => /"reservations"/.test(sql)),
      'the claim',
    ).to.have.length(1);
    expect(statements.sql.filter((sql) => /reservation_items/.test(sql))).to.deep.equal([]);
  });

  it('expires the earliest due first, at most `limit` a sweep, gives the reason, and answers how many', async () => {
    const product = await createTestProduct(inv().api, { initialStock: 5 });
    const orders = [await reserve(product.id, 1_000), await reserve(product.id, 1_001), await reserve(product.id, 1_002)];
    expect(await expireReservations(later, 2)).to.equal(2);
    expect((await Promise.all(orders.map(statusOf))).map((r) => r.status)).to.deep.equal([EXPIRED, EXPIRED, RESERVED]);
    expect((await statusOf(orders[0]!)).releaseReason).to.equal('reservation TTL elapsed');
    expect(await stockOf(inv().api, product.id)).to.include({ available: 4, reserved: 1 });
    expect(await expireReservations(later, 2)).to.equal(1);
    expect(await expireReservations(later, 2)).to.equal(0);
    expect(await stockOf(inv().api, product.id)).to.include({ available: 5, reserved: 0 });
  });

  it('claims each due reservation with its own items', async () => {
    const [a, b, c] = await Promise.all([createTestProduct(inv().api), createTestProduct(inv().api), createTestProduct(inv().api)]);
    const first = randomUUID();
    const second = randomUUID();
    const ttl = { seconds: 1_000, nanos: 0 };
    await inv().api.reserveStock({
      orderId: first,
      items: [
        { productId: a!.id, quantity: 1 },
        { productId: b!.id, quantity: 2 },
      ],
      ttl,
    });
    await inv().api.reserveStock({ orderId: second, items: [{ productId: c!.id, quantity: 3 }], ttl });
    const trx = await inv().db.transaction();
    try {
      const claimed = await claimExpired(trx, later.clock.now(), 10);
      const firstItems = [
        [a!.id, 1],
        [b!.id, 2],
      ].sort(([x], [y]) => (String(x) < String(y) ? -1 : 1));
      expect(claimed.map((r) => [r.orderId, r.items.map((i) => [i.productId, i.quantity])])).to.deep.equal([
        [first, firstItems],
        [second, [[c!.id, 3]]],
      ]);
    } finally {
      await trx.rollback();
    }
    await expireReservations(later, 10);
  });
});
