import { expect } from 'chai';
import { claimOrder } from '../../data/orders.js';
import { OrderOwnershipLost } from '../../domain/change-order.js';
import { advanceOrder } from '../../saga/advance-order.js';
import { EUR, NOW, PRODUCT_A, SETTINGS, useSagaHarness } from './saga-harness.js';

const RESERVED = { kind: 'reserved' as const, items: [{ productId: PRODUCT_A, quantity: 2, unitPrice: EUR(250) }] };
/** The charge's timeout plus the 30 s margin a fresh reservation must outlive to skip the extend. */
const SKIP_EXTEND_AFTER_MS = SETTINGS.paymentTimeoutMs + 30_000;

describe('saga steps in-process: a reservation runs on into its payment; what one write records', function () {
  const h = useSagaHarness();

  it('reserved: pays in the same step (extend, charge, commit) and confirms; one relay wake per status change', async () => {
    const order = await h.order();
    h.inventory.next('reserve', RESERVED);
    const after = await h.advance(order.id);
    expect(h.inventory.ops()).to.deep.equal(['reserve', 'extend', 'commit']);
    expect(h.gateway.ops()).to.deep.equal(['charge']);
    expect(after.status).to.equal('CONFIRMED');
    expect(h.transitions).to.deep.equal(['PENDING>RESERVED', 'RESERVED>CONFIRMED']);
    expect(h.afterCommits).to.equal(2);
  });

  it('a write that changes no status does not wake the relay', async () => {
    const order = await h.order({ status: 'CONFIRMED', paymentStatus: 'CAPTURED' });
    await h.advance(order.id);
    expect(h.afterCommits).to.equal(0);
  });

  it('not reserved (insufficient): no payment is attempted in that step', async () => {
    const order = await h.order();
    h.inventory.next('reserve', { kind: 'insufficient', productId: PRODUCT_A, available: 0, message: 'sold out' });
    const after = await h.advance(order.id);
    expect(h.inventory.ops()).to.deep.equal(['reserve']);
    expect(h.gateway.calls).to.deep.equal([]);
    expect(after.status).to.equal('AWAITING_STOCK');
  });

  it('a reservation that outlives the charge by more than the margin is not extended; one that only just does not, is', async () => {
    const far = await h.order();
    h.inventory.next('reserve', { ...RESERVED, expiresAt: new Date(NOW.getTime() + SKIP_EXTEND_AFTER_MS + 1) });
    await h.advance(far.id);
    expect(h.inventory.ops()).to.deep.equal(['reserve', 'commit']);

    h.reset();
    const near = await h.order();
    h.inventory.next('reserve', { ...RESERVED, expiresAt: new Date(NOW.getTime() + SKIP_EXTEND_AFTER_MS) });
    await h.advance(near.id);
    expect(h.inventory.ops()).to.deep.equal(['reserve', 'extend', 'commit']);
  });

  it('a fresh reservation: payment PENDING is written with RESERVED, and the charge follows without a lookup', async () => {
    const order = await h.order();
    h.inventory.next('reserve', { ...RESERVED, expiresAt: new Date(NOW.getTime() + SKIP_EXTEND_AFTER_MS + 1) });
    let atCharge: { status: string; paymentStatus: string; paymentAttempts: number } | undefined;
    h.gateway.next('charge', async () => {
      const { status, paymentStatus, paymentAttempts } = await h.stored(order.id);
      atCharge = { status, paymentStatus, paymentAttempts };
      return { kind: 'captured' as const, chargeId: 'ch_1' };
    });
    const orderWrites: string[] = [];
    const countWrites = (query: { sql: string }) => {
      if (/^with changed as \(update "orders"/.test(query.sql)) orderWrites.push(query.sql);
    };
    h.db.on('query', countWrites);
    try {
      expect((await h.advance(order.id)).status).to.equal('CONFIRMED');
    } finally {
      h.db.off('query', countWrites);
    }
    expect(atCharge, 'what a crash during the charge would leave').to.deep.equal({
      status: 'RESERVED',
      paymentStatus: 'PENDING',
      paymentAttempts: 1,
    });
    expect(h.gateway.ops()).to.deep.equal(['charge']);
    // RESERVED (with PENDING), CAPTURED, CONFIRMED.
    expect(orderWrites).to.have.length(3);
  });

  it('after a crash right after that write, the next step finds PENDING and asks the gateway before charging', async () => {
    const order = await h.order({ status: 'RESERVED', total: EUR(500), paymentStatus: 'PENDING', paymentAttempts: 1 });
    expect((await h.advance(order.id)).status).to.equal('CONFIRMED');
    expect(h.gateway.ops()).to.deep.equal(['lookup', 'charge']);
    expect((await h.stored(order.id)).paymentAttempts).to.equal(2);
  });

  it('a reservation that needs an extend: PENDING is written on its own, after the extend', async () => {
    const order = await h.order();
    h.inventory.next('reserve', { ...RESERVED, expiresAt: new Date(NOW.getTime() + SKIP_EXTEND_AFTER_MS) });
    let paymentAtExtend: string | undefined;
    h.inventory.next('extend', async () => {
      paymentAtExtend = (await h.stored(order.id)).paymentStatus;
      return { kind: 'done' as const };
    });
    expect((await h.advance(order.id)).status).to.equal('CONFIRMED');
    expect(paymentAtExtend).to.equal('NOT_STARTED');
    expect(h.gateway.ops()).to.deep.equal(['charge']);
  });

  it('detachPayment (inline checkout): answers RESERVED and hands the payment to carryOn', async () => {
    const order = await h.order();
    h.inventory.next('reserve', RESERVED);
    const answered = await h.advance(order.id, undefined, { detachPayment: true });
    expect(answered.status).to.equal('RESERVED');
    expect(h.carried).to.have.length(1);
    await Promise.all(h.carried);
    expect((await h.stored(order.id)).status).to.equal('CONFIRMED');
    expect(h.gateway.ops()).to.deep.equal(['charge']);
  });

  it('works without an observer (it is optional)', async () => {
    const order = await h.order();
    h.inventory.next('reserve', RESERVED);
    h.deps = { ...h.deps, observer: undefined };
    expect((await h.advance(order.id)).status).to.equal('CONFIRMED');
  });

  it('a cancel that lands before the PENDING write: nothing is charged; the unknown charge is looked up, then released', async () => {
    const order = await h.order({ status: 'RESERVED', total: EUR(500) });
    h.inventory.next('extend', async () => {
      // CancelOrder's write while the step was asking inventory: flag and a new version.
      await h
        .db('orders')
        .update({ cancel_requested: true, version: h.db.raw('version + 1') })
        .where({ id: order.id });
      return { kind: 'done' as const };
    });
    const after = await h.advance(order.id);
    expect(h.gateway.ops()).to.deep.equal(['lookup']);
    expect(h.inventory.ops()).to.deep.equal(['extend', 'release']);
    expect(after.status).to.equal('CANCELLED');
  });

  it('a captured charge is recorded in one write before the commit', async () => {
    const order = await h.order({ status: 'RESERVED', total: EUR(500) });
    const versions: Record<string, number> = {};
    const versionNow = async () =>
      (await h.db('orders').select('version', 'payment_status').where({ id: order.id }).first()) as {
        version: number;
        payment_status: string;
      };
    h.gateway.next('charge', async () => {
      versions.charge = (await versionNow()).version;
      return { kind: 'captured' as const, chargeId: 'ch_1' };
    });
    let statusAtCommit = '';
    h.inventory.next('commit', async () => {
      const row = await versionNow();
      versions.commit = row.version;
      statusAtCommit = row.payment_status;
      return { kind: 'done' as const };
    });
    await h.advance(order.id);
    expect(statusAtCommit).to.equal('CAPTURED');
    expect(versions.commit! - versions.charge!).to.equal(1);
  });

  it('a step never makes an illegal move: a cancel flag on a SHIPPED order is refused, the order left as it was', async () => {
    const order = await h.order({ status: 'SHIPPED', paymentStatus: 'CAPTURED', cancelRequested: true });
    const error = await h.advance(order.id).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).to.equal('illegal order transition SHIPPED → CANCELLED');
    expect((await h.stored(order.id)).status).to.equal('SHIPPED');
  });

  describe('a write that keeps missing', () => {
    /** Makes every update of one order a no-op (BEFORE trigger returning NULL) and counts the attempts. */
    async function refuseWritesTo(orderId: string): Promise<() => Promise<number>> {
      await h.db.raw(`create table if not exists refused_writes (order_id uuid not null)`);
      await h.db.raw(`create or replace function refuse_order_write() returns trigger language plpgsql as $$
        begin insert into refused_writes values (old.id); return null; end $$`);
      await h.db.raw(`drop trigger if exists refuse_order_write on orders`);
      await h.db.raw(`create trigger refuse_order_write before update on orders for each row
        when (old.id = '${orderId}'::uuid) execute function refuse_order_write()`);
      return async () => Number((await h.db('refused_writes').where({ order_id: orderId }).count({ n: '*' }).first())!.n);
    }
    afterEach(async () => {
      await h.db.raw(`drop trigger if exists refuse_order_write on orders`);
    });

    it('is re-read and retried 5 times, then the step gives the order up (6 attempts in all)', async () => {
      const order = await h.order();
      h.inventory.next('reserve', { kind: 'unavailable', message: 'inventory down' });
      // Claimed first: the claim is an update too.
      const claim = (await claimOrder(h.db, order.id, NOW, SETTINGS.leaseMs))!;
      const attempts = await refuseWritesTo(order.id);
      const error = await advanceOrder(h.deps, claim).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, String(error)).to.be.instanceOf(OrderOwnershipLost);
      expect(await attempts()).to.equal(6);
    });
  });
});
