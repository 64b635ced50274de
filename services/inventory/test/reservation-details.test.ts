import { randomUUID } from 'node:crypto';
import { status as Code } from '@grpc/grpc-js';
import { expect } from 'chai';
import { ReservationReserved } from '#libs/contracts/larder/inventory/v1/events.js';
import { ReservationStatus } from '#libs/contracts/larder/inventory/v1/resources.js';
import type { AppError } from '#libs/errors/app-error.js';
import { expectGrpcError } from '#test/support/grpc-errors.js';
import { recordStatements } from '#test/support/record-statements.js';
import { extendIfLive, findReservation } from '../data/reservations.js';
import type { InventoryDeps } from '../domain/deps.js';
import { reserveStock } from '../domain/reservations/reserve-stock.js';
import { applySettlement, extendReservation, settleReservation } from '../domain/reservations/settle-reservation.js';
import type { ReservationRecord } from '../domain/types.js';
import { createTestProduct, testInventoryPerSuite } from './harness.js';

const { RESERVATION_STATUS_RESERVED: RESERVED, RESERVATION_STATUS_RELEASED: RELEASED } = ReservationStatus;

/**
 * What ReserveStock, commit, release and extend answer, write and wake, beyond
 * the stock they move (reserve-stock and settle-reservation tests): the order of
 * items, error texts, events and their correlation id, the relay wake-up, and the
 * retry bounds. Found by mutation testing. Some tests call the domain functions
 * directly with the running service's dependencies, to count afterCommit() calls.
 */
describe('reservations: answers, events, wake-ups and retry bounds', function () {
  this.timeout(60_000);
  const inv = testInventoryPerSuite();

  /** The service's dependencies, with afterCommit() (the relay's wake-up) counted. */
  function counted(): { deps: InventoryDeps; wakes: () => number } {
    let wakes = 0;
    return { deps: { ...inv().running.deps, afterCommit: () => void (wakes += 1) }, wakes: () => wakes };
  }

  const rejection = (call: Promise<unknown>): Promise<AppError> =>
    call.then(
      () => expect.fail('expected a refusal'),
      (error: AppError) => error,
    );

  /** Subjects of the outbox rows whose payload names this order. */
  const eventSubjects = async (orderId: string): Promise<string[]> =>
    inv().db('outbox').whereRaw("position(convert_to(?, 'UTF8') in payload) > 0", [orderId]).orderBy('created_at').pluck('subject');

  /** Runs `body` while every UPDATE of this order's reservation row is silently skipped (a trigger returning NULL). */
  async function withReservationFrozen<T>(orderId: string, body: () => Promise<T>): Promise<T> {
    await inv().db.raw(`
      create or replace function test_freeze() returns trigger language plpgsql as $$
      begin if old.order_id = '${orderId}' then return null; end if; return new; end $$;
      create trigger test_freeze before update on reservations for each row execute function test_freeze();`);
    try {
      return await body();
    } finally {
      await inv().db.raw('drop trigger test_freeze on reservations; drop function test_freeze()');
    }
  }

  it('answers one reservation with its items in product-id order, whatever order the request named them in', async () => {
    const [a, b] = await Promise.all([createTestProduct(inv().api), createTestProduct(inv().api)]);
    const [low, high] = [a!.id, b!.id].sort();
    const orderId = randomUUID();
    const first = await inv().api.reserveStock({
      orderId,
      items: [
        { productId: high!, quantity: 1 },
        { productId: low!, quantity: 2 },
      ],
    });
    expect(first.reservation!.items.map((i) => i.productId)).to.deep.equal([low, high]);
    const repeat = await inv().api.reserveStock({
      orderId,
      items: [
        { productId: low!, quantity: 2 },
        { productId: high!, quantity: 1 },
      ],
    });
    expect(repeat.reservation).to.deep.equal(first.reservation);
  });

  it("writes the reserved event with status RESERVED and the caller's correlation id, and wakes the relay only when it wrote", async () => {
    const product = await createTestProduct(inv().api, { initialStock: 3 });
    const { deps, wakes } = counted();
    const command = { orderId: randomUUID(), items: [{ productId: product.id, quantity: 2 }] };
    await reserveStock(deps, { correlationId: 'corr-reserve' }, command);
    const [row] = await inv().db('outbox').whereRaw("position(convert_to(?, 'UTF8') in payload) > 0", [command.orderId]);
    expect(row).to.include({ subject: 'inventory.reservation.reserved', correlation_id: 'corr-reserve' });
    expect(ReservationReserved.decode(row.payload).reservation!.status).to.equal(RESERVED);
    expect(wakes(), 'after a new reservation').to.equal(1);
    await reserveStock(deps, {}, command);
    expect(wakes(), 'after a replay').to.equal(1);
    await rejection(reserveStock(deps, {}, { orderId: randomUUID(), items: [{ productId: product.id, quantity: 2 }] }));
    expect(wakes(), 'after a refusal').to.equal(1);
  });

  it('says why it refuses: an order id reused with other items, a deleted product, too little stock', async () => {
    const product = await createTestProduct(inv().api, { initialStock: 3 });
    const orderId = randomUUID();
    await reserveStock(inv().running.deps, {}, { orderId, items: [{ productId: product.id, quantity: 1 }] });
    const reused = await rejection(reserveStock(inv().running.deps, {}, { orderId, items: [{ productId: product.id, quantity: 2 }] }));
    expect(reused).to.include({ message: `order ${orderId} already has a reservation with different items`, field: 'order_id' });
    expect(reused.metadata).to.include({ order_id: orderId });

    const short = await rejection(
      reserveStock(inv().running.deps, {}, { orderId: randomUUID(), items: [{ productId: product.id, quantity: 4 }] }),
    );
    expect(short.message).to.equal(`insufficient stock for product ${product.id}: requested 4, available 2`);

    await inv().api.deleteProduct({ id: product.id });
    const deleted = await rejection(
      reserveStock(inv().running.deps, {}, { orderId: randomUUID(), items: [{ productId: product.id, quantity: 1 }] }),
    );
    expect(deleted.message).to.equal(`product ${product.id} is deleted and cannot be reserved`);
  });

  it('without the coalescer, concurrent first calls of one order make one reservation and all answer it', async () => {
    const product = await createTestProduct(inv().api, { initialStock: 10 });
    // One statement per call, all in flight at once: the losers of the order id's claim run again and replay.
    const alone: InventoryDeps = { ...inv().running.deps, reservationBatches: undefined };
    const command = { orderId: randomUUID(), items: [{ productId: product.id, quantity: 3 }] };
    const answers = await Promise.all(Array.from({ length: 12 }, () => reserveStock(alone, {}, command)));
    expect(new Set(answers.map((a) => a.createdAt.getTime())).size).to.equal(1);
    expect((await inv().api.batchGetStockLevels({ productIds: [product.id] })).stockLevels[0]).to.include({ available: 7, reserved: 3 });
  });

  it('keeps the release reason: read back, replayed by a repeated ReserveStock, defaulted when none is given, absent on commit', async () => {
    const product = await createTestProduct(inv().api, { initialStock: 10 });
    const items = [{ productId: product.id, quantity: 1 }];
    const [declined, unexplained, committed] = [randomUUID(), randomUUID(), randomUUID()];
    for (const orderId of [declined, unexplained, committed]) await inv().api.reserveStock({ orderId, items });

    await inv().api.releaseReservation({ orderId: declined, reason: 'payment declined' });
    expect((await inv().api.getReservation({ orderId: declined })).reservation).to.include({ releaseReason: 'payment declined' });
    expect((await inv().api.reserveStock({ orderId: declined, items })).reservation).to.include({
      status: RELEASED,
      releaseReason: 'payment declined',
    });

    const { reservation } = await inv().api.releaseReservation({ orderId: unexplained });
    expect(reservation!.releaseReason).to.equal('released by caller');
    expect((await inv().api.commitReservation({ orderId: committed })).reservation!.releaseReason).to.equal('');
  });

  it('names the reservation it cannot find, and the move it refuses', async () => {
    const unknown = randomUUID();
    const calls = [
      () => inv().api.commitReservation({ orderId: unknown }),
      () => inv().api.releaseReservation({ orderId: unknown }),
      () => inv().api.extendReservation({ orderId: unknown, ttl: { seconds: 60, nanos: 0 } }),
      () => inv().api.getReservation({ orderId: unknown }),
    ];
    for (const call of calls) {
      const { error, reason } = await expectGrpcError(call(), Code.NOT_FOUND);
      expect([error.details, reason]).to.deep.equal([`reservation ${unknown} not found`, 'RESERVATION_NOT_FOUND']);
    }

    const product = await createTestProduct(inv().api, { initialStock: 10 });
    const [released, committed] = [randomUUID(), randomUUID()];
    for (const orderId of [released, committed]) await inv().api.reserveStock({ orderId, items: [{ productId: product.id, quantity: 1 }] });
    await inv().api.releaseReservation({ orderId: released });
    await inv().api.commitReservation({ orderId: committed });
    const refusals = [
      [() => inv().api.commitReservation({ orderId: released }), `cannot commit the reservation of order ${released}: it is released`],
      [
        () => inv().api.releaseReservation({ orderId: committed }),
        `cannot release the reservation of order ${committed}: it is committed (sold)`,
      ],
      [
        () => inv().api.extendReservation({ orderId: committed, ttl: { seconds: 60, nanos: 0 } }),
        `cannot extend the reservation of order ${committed}: it is committed`,
      ],
    ] as const;
    for (const [call, text] of refusals) expect((await expectGrpcError(call(), Code.FAILED_PRECONDITION)).error.details).to.equal(text);
  });

  it('commit and release each write their own event and wake the relay', async () => {
    const product = await createTestProduct(inv().api, { initialStock: 10 });
    const [committed, released] = [randomUUID(), randomUUID()];
    for (const orderId of [committed, released]) await inv().api.reserveStock({ orderId, items: [{ productId: product.id, quantity: 1 }] });
    const { deps, wakes } = counted();
    await settleReservation(deps, {}, committed, 'COMMITTED');
    expect(wakes()).to.equal(1);
    await settleReservation(deps, {}, released, 'RELEASED');
    expect(wakes()).to.equal(2);
    expect(await eventSubjects(committed)).to.deep.equal(['inventory.reservation.reserved', 'inventory.reservation.committed']);
    expect(await eventSubjects(released)).to.deep.equal(['inventory.reservation.reserved', 'inventory.reservation.released']);
  });

  it('gives up settling and extending after three tries when their guarded statement keeps missing', async () => {
    const product = await createTestProduct(inv().api, { initialStock: 10 });
    const orderId = randomUUID();
    await inv().api.reserveStock({ orderId, items: [{ productId: product.id, quantity: 1 }] });
    const settlements: string[] = [];
    const listener = (query: { sql: string }) => /\bupdate reservations\b/.test(query.sql) && settlements.push(query.sql);
    inv().running.deps.db.on('query', listener);
    try {
      await withReservationFrozen(orderId, async () => {
        const error = await rejection(settleReservation(inv().running.deps, {}, orderId, 'COMMITTED'));
        expect(error.message).to.equal(`reservation ${orderId} kept changing while being settled`);
        expect(settlements, 'settlement statements sent').to.have.length(3);
        // The guarded extend changes nothing, yet the reservation reads live: it tries again rather than
        // answer the unextended reservation as extended, and gives up like settling does.
        const refused = await rejection(extendReservation(inv().running.deps, orderId, 600_000));
        expect(refused.message).to.equal(`reservation ${orderId} kept changing while being extended`);
      });
    } finally {
      inv().running.deps.db.off('query', listener);
    }
    expect((await inv().api.getReservation({ orderId })).reservation!.status).to.equal(RESERVED);
  });

  it('extends a live reservation with its one guarded statement and the read of its items, not a second read of the reservation', async () => {
    const product = await createTestProduct(inv().api, { initialStock: 10 });
    const orderId = randomUUID();
    await inv().api.reserveStock({ orderId, items: [{ productId: product.id, quantity: 2 }] });
    // On the test's own pool, which nothing else uses meanwhile.
    const deps: InventoryDeps = { ...inv().running.deps, db: inv().db };
    const statements = recordStatements(inv().db);
    let extended: ReservationRecord;
    const before = deps.clock.now().getTime();
    try {
      extended = await extendReservation(deps, orderId, 600_000);
    } finally {
      statements.stop();
    }
    const after = deps.clock.now().getTime();
    expect(statements.sql.map((sql) => sql.split(' ').slice(0, 4).join(' '))).to.deep.equal([
      'update "reservations" set "expires_at"',
      'select * from "reservation_items"',
    ]);
    expect(statements.sql[0]).to.match(/returning \*$/);
    expect(extended.expiresAt.getTime()).to.be.within(before + 600_000, after + 600_000);
    expect(extended.items.map((i) => [i.productId, i.quantity])).to.deep.equal([[product.id, 2]]);
  });

  it('reads an extended reservation with its items in product-id order, whatever order the plan meets them in', async () => {
    const [a, b] = await Promise.all([createTestProduct(inv().api), createTestProduct(inv().api)]);
    const [low, high] = [a!.id, b!.id].sort();
    const orderId = randomUUID();
    await inv().api.reserveStock({
      orderId,
      items: [
        { productId: low!, quantity: 1 },
        { productId: high!, quantity: 2 },
      ],
    });
    // A no-op update writes a new version of the low item's row after the high one in the table.
    await inv()
      .db('reservation_items')
      .where({ order_id: orderId, product_id: low })
      .update({ quantity: inv().db.raw('quantity') });
    const now = new Date();
    const extended = await inv().db.transaction(async (trx) => {
      // A sequential scan, in storage order: through the index (a bitmap scan follows the updated row's
      // chain from its first place), the items come in product-id order anyway.
      await trx.raw('set local enable_indexscan = off; set local enable_bitmapscan = off');
      return extendIfLive(trx, orderId, new Date(now.getTime() + 600_000), now);
    });
    expect(extended!.items.map((i) => [i.productId, i.quantity])).to.deep.equal([
      [low, 1],
      [high, 2],
    ]);
  });

  it("the sweeper's settlement refuses a reservation that is no longer RESERVED under its lock", async () => {
    const product = await createTestProduct(inv().api, { initialStock: 10 });
    const orderId = randomUUID();
    await inv().api.reserveStock({ orderId, items: [{ productId: product.id, quantity: 1 }] });
    await inv().api.commitReservation({ orderId });
    const committed = (await findReservation(inv().db, orderId))!;
    const error = await rejection(
      inv().running.deps.db.transaction((trx) => applySettlement(inv().running.deps, trx, {}, committed, 'EXPIRED', 'test', new Date())),
    );
    expect(error.message).to.equal(`reservation ${orderId} was not RESERVED under the caller's lock`);
  });
});
