import { randomUUID } from 'node:crypto';
import { status as Code } from '@grpc/grpc-js';
import { expect } from 'chai';
import { connect, type Msg, type NatsConnection } from 'nats';
import { ReservationExpired } from '#libs/contracts/larder/inventory/v1/events.js';
import { ReservationStatus } from '#libs/contracts/larder/inventory/v1/resources.js';
import { eventually } from '#test/support/eventually.js';
import { expectGrpcError, outcomeOf } from '#test/support/grpc-errors.js';
import { testNatsUrl } from '#test/support/root-hooks.js';
import { findInvariantViolations } from '../data/invariants.js';
import { createTestProduct, manualClock, startTestInventory, type TestInventory, stockOf as stockOfProduct } from './harness.js';

const {
  RESERVATION_STATUS_COMMITTED: COMMITTED,
  RESERVATION_STATUS_RELEASED: RELEASED,
  RESERVATION_STATUS_EXPIRED: EXPIRED,
} = ReservationStatus;

describe('CommitReservation, ReleaseReservation, ExtendReservation and expiry', function () {
  this.timeout(60_000);
  const clock = manualClock();
  let inv: TestInventory;
  let nats: NatsConnection;

  before(async () => {
    inv = await startTestInventory({ clock });
    nats = await connect({ servers: testNatsUrl() });
  });
  after(async () => {
    await nats?.close();
    await inv?.stop();
  });
  afterEach(async () => {
    expect(await findInvariantViolations(inv.db)).to.deep.equal([]);
  });

  const stockOf = (productId: string) => stockOfProduct(inv.api, productId);
  const reserve = async (productId: string, quantity: number, ttlSeconds = 60) => {
    const orderId = randomUUID();
    await inv.api.reserveStock({ orderId, items: [{ productId, quantity }], ttl: { seconds: ttlSeconds, nanos: 0 } });
    return orderId;
  };

  it('commit moves reserved units to sold, once, however often it is repeated', async () => {
    const product = await createTestProduct(inv.api, { initialStock: 10 });
    const orderId = await reserve(product.id, 4);
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => outcomeOf(inv.api.commitReservation({ orderId }))));
    expect(outcomes.every((o) => o === 'OK')).to.equal(true);
    expect((await inv.api.getReservation({ orderId })).reservation!.status).to.equal(COMMITTED);
    expect(await stockOf(product.id)).to.include({ available: 6, reserved: 0, sold: 4 });
  });

  it('release returns reserved units to available and keeps the reason', async () => {
    const product = await createTestProduct(inv.api, { initialStock: 10 });
    const orderId = await reserve(product.id, 4);
    const { reservation } = await inv.api.releaseReservation({ orderId, reason: 'payment declined' });
    expect(reservation).to.include({ status: RELEASED, releaseReason: 'payment declined' });
    await inv.api.releaseReservation({ orderId, reason: 'retry' });
    expect(await stockOf(product.id)).to.include({ available: 10, reserved: 0, sold: 0 });
  });

  it('refuses commit after release and release after commit', async () => {
    const product = await createTestProduct(inv.api, { initialStock: 10 });
    const released = await reserve(product.id, 1);
    await inv.api.releaseReservation({ orderId: released });
    const afterRelease = await expectGrpcError(inv.api.commitReservation({ orderId: released }), Code.FAILED_PRECONDITION);
    expect(afterRelease.reason).to.equal('ILLEGAL_RESERVATION_TRANSITION');

    const committed = await reserve(product.id, 1);
    await inv.api.commitReservation({ orderId: committed });
    await expectGrpcError(inv.api.releaseReservation({ orderId: committed }), Code.FAILED_PRECONDITION);
    expect(await stockOf(product.id)).to.include({ available: 9, reserved: 0, sold: 1 });
  });

  it('lets exactly one of a racing commit and release win', async () => {
    const product = await createTestProduct(inv.api, { initialStock: 50 });
    for (let i = 0; i < 10; i++) {
      const orderId = await reserve(product.id, 1);
      const [commit, release] = await Promise.all([
        outcomeOf(inv.api.commitReservation({ orderId })),
        outcomeOf(inv.api.releaseReservation({ orderId })),
      ]);
      expect([commit, release].filter((o) => o === 'OK')).to.have.length(1);
      expect([commit, release].filter((o) => o === 'FAILED_PRECONDITION')).to.have.length(1);
    }
    const stock = await stockOf(product.id);
    expect(stock.reserved).to.equal(0);
    expect(stock.available + stock.sold).to.equal(50);
  });

  it('answers NOT_FOUND for an order without a reservation', async () => {
    await expectGrpcError(inv.api.commitReservation({ orderId: randomUUID() }), Code.NOT_FOUND);
    await expectGrpcError(inv.api.releaseReservation({ orderId: randomUUID() }), Code.NOT_FOUND);
    await expectGrpcError(inv.api.extendReservation({ orderId: randomUUID(), ttl: { seconds: 60, nanos: 0 } }), Code.NOT_FOUND);
  });

  it('expires a reservation after its TTL: stock back, status EXPIRED, event published', async () => {
    const product = await createTestProduct(inv.api, { initialStock: 5 });
    // Collected by a callback: an iterator read raced against a timeout would swallow the message it loses.
    const expiredEvents: Msg[] = [];
    const subscription = nats.subscribe('inventory.reservation.expired', { callback: (err, msg) => err || expiredEvents.push(msg) });
    const orderId = await reserve(product.id, 2, 30);
    expect(await stockOf(product.id)).to.include({ available: 3, reserved: 2 });

    clock.advance(31_000);
    await eventually('the sweeper to expire the reservation', async () => {
      const { reservation } = await inv.api.getReservation({ orderId });
      return reservation!.status === EXPIRED || `status ${ReservationStatus[reservation!.status]}`;
    });
    expect(await stockOf(product.id)).to.include({ available: 5, reserved: 0 });

    const ours = () =>
      expiredEvents
        .map((message) => ({ decoded: ReservationExpired.decode(message.data), headers: message.headers }))
        .filter((e) => e.decoded.reservation?.orderId === orderId);
    await eventually('the expired event on NATS', () => ours().length > 0 || `${expiredEvents.length} expired events, none for it`);
    subscription.unsubscribe();
    const [event] = ours();
    expect(event!.decoded.reservation!.items[0]).to.include({ productId: product.id, quantity: 2 });
    expect(event!.headers?.get('Nats-Msg-Id')).to.equal(event!.decoded.metadata!.eventId);

    // Expired is as good as released for the caller; commit is refused.
    expect((await inv.api.releaseReservation({ orderId })).reservation!.status).to.equal(EXPIRED);
    await expectGrpcError(inv.api.commitReservation({ orderId }), Code.FAILED_PRECONDITION);
  });

  it('refuses to commit a reservation whose TTL passed even before the sweeper ran', async () => {
    const product = await createTestProduct(inv.api, { initialStock: 5 });
    const orderId = await reserve(product.id, 1, 10);
    clock.advance(11_000);
    const { error } = await expectGrpcError(inv.api.commitReservation({ orderId }), Code.FAILED_PRECONDITION);
    expect(error.details).to.match(/expired/);
  });

  it('extends a reservation so a slow payment keeps its stock', async () => {
    const product = await createTestProduct(inv.api, { initialStock: 5 });
    const orderId = await reserve(product.id, 1, 10);
    clock.advance(8_000);
    const { reservation } = await inv.api.extendReservation({ orderId, ttl: { seconds: 60, nanos: 0 } });
    expect(reservation!.expireTime!.getTime()).to.equal(clock.now().getTime() + 60_000);
    // A canary due after the old expiry but before the new "now": once a sweep has expired it, the same
    // sweep (which takes the oldest due first) would have expired an unextended reservation before it.
    const canary = await reserve(product.id, 1, 9);
    clock.advance(10_000);
    await eventually('a sweep past the original expiry (the canary expired)', async () => {
      const { reservation } = await inv.api.getReservation({ orderId: canary });
      return reservation!.status === EXPIRED || `canary ${ReservationStatus[reservation!.status]}`;
    });
    expect((await inv.api.getReservation({ orderId })).reservation!.status).to.equal(ReservationStatus.RESERVATION_STATUS_RESERVED);
    await inv.api.commitReservation({ orderId });
    expect(await stockOf(product.id)).to.include({ available: 4, reserved: 0, sold: 1 });
    await expectGrpcError(inv.api.extendReservation({ orderId, ttl: { seconds: 60, nanos: 0 } }), Code.FAILED_PRECONDITION);
  });
});
