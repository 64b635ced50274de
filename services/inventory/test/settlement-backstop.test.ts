import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { ReservationStatus } from '#libs/contracts/larder/inventory/v1/resources.js';
import { outcomeOf } from '#test/support/grpc-errors.js';
import { settleReservation } from '../domain/reservations/settle-reservation.js';
import { createTestProduct, startTestInventory, type TestInventory } from './harness.js';

describe('settling a reservation whose stock row is missing', function () {
  this.timeout(30_000);
  let inv: TestInventory;
  before(async () => {
    inv = await startTestInventory();
  });
  after(async () => inv?.stop());

  // A backstop, not a path a caller can reach: the ledger must never record a move the stock did not make.
  it('writes nothing and fails, for commit and for release', async () => {
    for (const settle of ['commitReservation', 'releaseReservation'] as const) {
      const product = await createTestProduct(inv.api, { initialStock: 10 });
      const orderId = randomUUID();
      await inv.api.reserveStock({ orderId, items: [{ productId: product.id, quantity: 4 }] });
      await inv.db('stock_levels').where({ product_id: product.id }).delete();

      expect(await outcomeOf(inv.api[settle]({ orderId })), settle).to.equal('INTERNAL');
      expect((await inv.api.getReservation({ orderId })).reservation!.status, settle).to.equal(
        ReservationStatus.RESERVATION_STATUS_RESERVED,
      );
      expect(await inv.db('stock_movements').where({ reference: orderId }).pluck('kind'), settle).to.deep.equal(['RESERVE']);
      expect(
        await inv
          .db('outbox')
          .where('subject', 'like', 'inventory.reservation.%')
          .whereNot('subject', 'inventory.reservation.reserved')
          .count('* as n')
          .first(),
        settle,
      ).to.deep.equal({ n: 0 });
      // The caller sees INTERNAL; the error behind it says what is wrong, not that the row kept changing.
      await settleReservation(inv.running.deps, {}, orderId, settle === 'commitReservation' ? 'COMMITTED' : 'RELEASED').then(
        () => expect.fail(`${settle} should have failed`),
        (error: Error) => expect(error.message).to.equal(`settling reservation ${orderId}: 1 of the allocation lines have no stock row`),
      );
    }
  });
});
