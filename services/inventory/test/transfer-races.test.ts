import { randomUUID } from 'node:crypto';
import { status as Code } from '@grpc/grpc-js';
import { expect } from 'chai';
import { AdjustmentReason } from '#libs/contracts/larder/inventory/v1/resources.js';
import { TransferStatus } from '#libs/contracts/larder/inventory/v1/locations.js';
import { errorInfoOf } from '#libs/grpc/status.js';
import { outcomeOf, tally } from '#test/support/grpc-errors.js';
import { seededInts } from '#test/support/seeded-random.js';
import { findInvariantViolations } from '../data/invariants.js';
import { createTestProduct, startTestInventory, type TestInventory } from './harness.js';
import { defaultLocationId, insertTestLocation, stockAt, transferRequest } from './transfer-support.js';

const SEED = Number(process.env.TRANSFER_RACE_SEED ?? 21);
/** Calls at once: enough to contend on one row, few enough that a loaded machine does not time out the pool's 5 s acquire. */
const IN_FLIGHT = 24;

/** Runs the calls `width` at a time; results in the calls' order. */
async function inFlight<T>(width: number, calls: readonly (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < calls.length) {
        const index = next++;
        results[index] = await calls[index]!();
      }
    }),
  );
  return results;
}

/** Transfers racing each other, reservations and write-offs on the same stock rows, on one inventory. */
describe('transfer races', function () {
  this.timeout(120_000);
  let inv: TestInventory;
  let home: string;

  before(async () => {
    inv = await startTestInventory();
    home = await defaultLocationId(inv.db);
  });
  after(async () => inv?.stop());
  afterEach(async () => {
    expect(await findInvariantViolations(inv.db)).to.deep.equal([]);
  });

  /** The gRPC outcome of a call, with the ErrorInfo reason of a refusal (e.g. FAILED_PRECONDITION/INSUFFICIENT_STOCK). */
  async function settle<T>(call: Promise<T>): Promise<{ outcome: string; value?: T }> {
    try {
      return { outcome: 'OK', value: await call };
    } catch (error) {
      const code = (error as { code?: number }).code;
      const reason = errorInfoOf(error as never)?.reason;
      return { outcome: `${typeof code === 'number' ? Code[code] : 'THROWN'}/${reason ?? (error as Error).message}` };
    }
  }

  it('concurrent transfers, reservations and write-offs of one (product, location) conserve every unit, then receipts and cancels too', async () => {
    const next = seededInts(SEED);
    const initial = 200;
    const [p, q] = [
      await createTestProduct(inv.api, { initialStock: initial }),
      await createTestProduct(inv.api, { initialStock: initial }),
    ];
    const stores = [await insertTestLocation(inv.db), await insertTestLocation(inv.db)];

    type Sent = { id: string; to: string; units: Map<string, number> };
    const sent: Sent[] = [];
    let reservedUnits = 0;
    let writtenOff = 0;
    const outcomes: string[] = [];
    // The plan is drawn before anything runs, so a seed replays the same calls whatever the scheduling.
    const plans = Array.from({ length: 180 }, (_, i) => {
      const [a, b, shape, to] = [1 + next(5), 1 + next(5), next(3), stores[next(2)]!];
      const items =
        shape === 0
          ? [{ productId: p.id, quantity: a }]
          : shape === 1
            ? [
                { productId: p.id, quantity: a },
                { productId: q.id, quantity: b },
              ]
            : [
                { productId: q.id, quantity: b },
                { productId: p.id, quantity: a },
              ];
      return { kind: i % 3, items, to, quantity: 1 + next(3) };
    });
    const calls = plans.map((plan) => async () => {
      if (plan.kind === 0) {
        // Lines of p alone, or of p and q in either order: multi-line transfers lock in product order and never deadlock.
        const result = await settle(inv.api.createTransfer(transferRequest(home, plan.to, plan.items)));
        outcomes.push(`transfer ${result.outcome}`);
        if (result.value)
          sent.push({
            id: result.value.transfer!.id,
            to: plan.to,
            units: new Map(plan.items.map((item) => [item.productId, item.quantity])),
          });
      } else if (plan.kind === 1) {
        const result = await settle(inv.api.reserveStock({ orderId: randomUUID(), items: [{ productId: p.id, quantity: plan.quantity }] }));
        outcomes.push(`reserve ${result.outcome}`);
        if (result.value) reservedUnits += plan.quantity;
      } else {
        const result = await settle(
          inv.api.adjustStock({
            productId: p.id,
            delta: -plan.quantity,
            reason: AdjustmentReason.ADJUSTMENT_REASON_DAMAGED,
            idempotencyKey: randomUUID(),
          }),
        );
        outcomes.push(`write-off ${result.outcome}`);
        if (result.value) writtenOff += plan.quantity;
      }
    });
    await inFlight(IN_FLIGHT, calls);

    const counts = tally(outcomes);
    // Nothing but grants and clean refusals; contention was real: each kind was granted and refused.
    expect(Object.keys(counts).sort()).to.deep.equal(
      [
        'reserve OK',
        'reserve FAILED_PRECONDITION/INSUFFICIENT_STOCK',
        'transfer OK',
        'transfer FAILED_PRECONDITION/INSUFFICIENT_STOCK',
        'write-off OK',
        'write-off FAILED_PRECONDITION/INSUFFICIENT_STOCK',
      ].sort(),
      JSON.stringify(counts),
    );
    const inTransit = (productId: string) => sent.reduce((sum, s) => sum + (s.units.get(productId) ?? 0), 0);
    expect(await stockAt(inv.db, p.id, home)).to.deep.include({
      available: initial - inTransit(p.id) - reservedUnits - writtenOff,
      reserved: reservedUnits,
      inTransit: inTransit(p.id),
    });
    expect(await stockAt(inv.db, q.id, home)).to.deep.include({ available: initial - inTransit(q.id), inTransit: inTransit(q.id) });
    expect(await findInvariantViolations(inv.db)).to.deep.equal([]);

    // Receive half (p a unit short on every other one), cancel the rest, all at once.
    let landed = 0;
    let lost = 0;
    const endings = await inFlight(
      IN_FLIGHT,
      sent.map((s, i) => async () => {
        if (i % 2 === 1) return settle(inv.api.cancelTransfer({ id: s.id, reason: 'race' }));
        const short = i % 4 === 0 && (s.units.get(p.id) ?? 0) > 0;
        landed += [...s.units.values()].reduce((a, b) => a + b, 0) - (short ? 1 : 0);
        lost += short ? 1 : 0;
        return settle(
          inv.api.receiveTransfer({
            id: s.id,
            received: short ? [{ productId: p.id, quantity: s.units.get(p.id)! - 1 }] : [],
            lossReason: short ? AdjustmentReason.ADJUSTMENT_REASON_LOST : 0,
          }),
        );
      }),
    );
    expect(tally(endings.map((e) => e.outcome))).to.deep.equal({ OK: sent.length });
    const atStores = await inv.db('stock_levels').whereIn('location_id', stores).sum<{ sum: string }[]>('available as sum');
    expect(Number(atStores[0]!.sum)).to.equal(landed);
    const cancelledUnits = sent.filter((_, i) => i % 2 === 1).reduce((sum, s) => sum + [...s.units.values()].reduce((a, b) => a + b, 0), 0);
    const home_ = { p: await stockAt(inv.db, p.id, home), q: await stockAt(inv.db, q.id, home) };
    expect(home_.p.inTransit + home_.q.inTransit).to.equal(0);
    // Every unit is somewhere: at home (available or reserved), written off, landed at a store, or lost on the way.
    expect(home_.p.available + home_.p.reserved + home_.q.available + writtenOff + landed + lost).to.equal(2 * initial);
    expect(cancelledUnits).to.be.above(0);
  });

  it('a receipt and a cancel of one transfer at the same moment: exactly one wins, the other is refused', async () => {
    const product = await createTestProduct(inv.api, { initialStock: 100 });
    const store = await insertTestLocation(inv.db);
    const transfers = await Promise.all(
      Array.from(
        { length: 20 },
        async () => (await inv.api.createTransfer(transferRequest(home, store, [{ productId: product.id, quantity: 5 }]))).transfer!,
      ),
    );
    const results = await Promise.all(
      transfers.map(async (t, i) => {
        const receive = () => settle(inv.api.receiveTransfer({ id: t.id, received: [], lossReason: 0 }));
        const cancel = () => settle(inv.api.cancelTransfer({ id: t.id, reason: 'race' }));
        const [r, c] = i % 2 === 0 ? await Promise.all([receive(), cancel()]) : (await Promise.all([cancel(), receive()])).reverse();
        return { id: t.id, receive: r!.outcome, cancel: c!.outcome };
      }),
    );
    let received = 0;
    for (const r of results) {
      expect(
        [r.receive, r.cancel].filter((o) => o === 'OK'),
        JSON.stringify(r),
      ).to.have.length(1);
      expect(
        [r.receive, r.cancel].filter((o) => o === 'FAILED_PRECONDITION/ILLEGAL_TRANSFER_TRANSITION'),
        JSON.stringify(r),
      ).to.have.length(1);
      const { transfer } = await inv.api.getTransfer({ id: r.id });
      expect(transfer!.status).to.equal(
        r.receive === 'OK' ? TransferStatus.TRANSFER_STATUS_RECEIVED : TransferStatus.TRANSFER_STATUS_CANCELLED,
      );
      const kinds: { kind: string }[] = await inv.db('stock_movements').where({ reference: r.id }).orderBy('kind').select('kind');
      expect(kinds.map((k) => k.kind)).to.deep.equal(
        r.receive === 'OK' ? ['TRANSFER_DELIVERED', 'TRANSFER_IN', 'TRANSFER_OUT'] : ['TRANSFER_CANCELLED', 'TRANSFER_OUT'],
      );
      if (r.receive === 'OK') received += 5;
    }
    expect(await stockAt(inv.db, product.id, store)).to.include({ available: received });
    expect(await stockAt(inv.db, product.id, home)).to.include({ available: 100 - received, inTransit: 0 });
  });

  it('the same CreateTransfer sent 20 times at once makes one transfer and moves its units once', async () => {
    const product = await createTestProduct(inv.api, { initialStock: 10 });
    const request = transferRequest(home, await insertTestLocation(inv.db), [{ productId: product.id, quantity: 3 }]);
    const answers = await Promise.all(Array.from({ length: 20 }, () => settle(inv.api.createTransfer(request))));
    expect(tally(answers.map((a) => a.outcome))).to.deep.equal({ OK: 20 });
    expect(new Set(answers.map((a) => a.value!.transfer!.id)).size).to.equal(1);
    expect(await inv.db('transfers').where({ idempotency_key: request.idempotencyKey })).to.have.length(1);
    expect(await stockAt(inv.db, product.id, home)).to.include({ available: 7, inTransit: 3 });
    const outcome = await outcomeOf(inv.api.cancelTransfer({ id: answers[0]!.value!.transfer!.id, reason: '' }));
    expect(outcome).to.equal('OK');
  });
});
