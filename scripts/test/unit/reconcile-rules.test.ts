import { expect } from 'chai';
import { judge, type CancelRestock, type OrderSide, type Pair, type ReservationSide } from '../../reconcile/rules.js';
import { mergeByKey, keysetRows } from '../../reconcile/pairs.js';
import { readOptions, UsageError } from '../../reconcile/options.js';

const NOW = new Date('2026-03-01T12:00:00Z');
const GRACE_MS = 60_000;
const ago = (seconds: number) => new Date(NOW.getTime() - seconds * 1000);
const later = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);
const ID = '00000000-0000-4000-8000-000000000001';

/** Both sides last moved ten minutes ago: past any grace, so the table alone decides. */
const order = (status: OrderSide['status'], extra: Partial<OrderSide> = {}): OrderSide => ({
  id: ID,
  status,
  updatedAt: ago(600),
  leaseUntil: null,
  ...extra,
});
const reservation = (status: ReservationSide['status'], extra: Partial<ReservationSide> = {}): ReservationSide => ({
  orderId: ID,
  status,
  expiresAt: status === 'RESERVED' ? later(300) : ago(600),
  updatedAt: ago(600),
  ...extra,
});
const expired = () => reservation('RESERVED', { expiresAt: ago(300) });
const restock = (restockedUnits: number): CancelRestock => ({ productId: 'p-1', quantity: 2, restockedUnits });

type Expected = 'agree' | 'release' | 'commit' | 'restock' | 'human';
const outcome = (pair: Pair): Expected | 'inFlight' => {
  const verdict = judge(pair, NOW, GRACE_MS);
  if (verdict.kind !== 'disagree') return verdict.kind;
  return verdict.repair.action === 'none' ? 'human' : verdict.repair.action;
};

const TABLE: [string, Pair, Expected][] = [
  ['PENDING, no reservation yet', { order: order('PENDING') }, 'agree'],
  ['PENDING, reserved (the step is recording it)', { order: order('PENDING'), reservation: reservation('RESERVED') }, 'agree'],
  ['AWAITING_STOCK, no reservation', { order: order('AWAITING_STOCK') }, 'agree'],
  ['AWAITING_STOCK, reserved', { order: order('AWAITING_STOCK'), reservation: reservation('RESERVED') }, 'agree'],
  ['PENDING, reservation expired and never swept', { order: order('PENDING'), reservation: expired() }, 'human'],
  ['PENDING, reservation committed', { order: order('PENDING'), reservation: reservation('COMMITTED') }, 'human'],
  ['AWAITING_STOCK, reservation released', { order: order('AWAITING_STOCK'), reservation: reservation('RELEASED') }, 'human'],
  ['RESERVED, reserved', { order: order('RESERVED'), reservation: reservation('RESERVED') }, 'agree'],
  ['RESERVED, no reservation', { order: order('RESERVED') }, 'human'],
  ['RESERVED, reservation expired and never swept', { order: order('RESERVED'), reservation: expired() }, 'human'],
  ['RESERVED, reservation EXPIRED', { order: order('RESERVED'), reservation: reservation('EXPIRED') }, 'human'],
  ['RESERVED, reservation committed', { order: order('RESERVED'), reservation: reservation('COMMITTED') }, 'human'],
  ['CONFIRMED, committed', { order: order('CONFIRMED'), reservation: reservation('COMMITTED') }, 'agree'],
  ['SHIPPED, committed', { order: order('SHIPPED'), reservation: reservation('COMMITTED') }, 'agree'],
  ['DELIVERED, committed', { order: order('DELIVERED'), reservation: reservation('COMMITTED') }, 'agree'],
  ['CONFIRMED, only reserved', { order: order('CONFIRMED'), reservation: reservation('RESERVED') }, 'commit'],
  ['SHIPPED, only reserved', { order: order('SHIPPED'), reservation: reservation('RESERVED') }, 'commit'],
  ['CONFIRMED, reserved but expired (commit would be refused)', { order: order('CONFIRMED'), reservation: expired() }, 'human'],
  ['CONFIRMED, released: stock back after the customer paid', { order: order('CONFIRMED'), reservation: reservation('RELEASED') }, 'human'],
  ['DELIVERED, expired', { order: order('DELIVERED'), reservation: reservation('EXPIRED') }, 'human'],
  ['CONFIRMED, no reservation', { order: order('CONFIRMED') }, 'human'],
  ['CANCELLED, no reservation', { order: order('CANCELLED') }, 'agree'],
  ['CANCELLED, released', { order: order('CANCELLED'), reservation: reservation('RELEASED') }, 'agree'],
  ['CANCELLED, expired', { order: order('CANCELLED'), reservation: reservation('EXPIRED') }, 'agree'],
  ['CANCELLED, still reserved', { order: order('CANCELLED'), reservation: reservation('RESERVED') }, 'release'],
  ['CANCELLED, reserved and expired', { order: order('CANCELLED'), reservation: expired() }, 'release'],
  [
    'CANCELLED after CONFIRMED, committed and restocked',
    { order: order('CANCELLED'), reservation: reservation('COMMITTED'), cancelRestocks: [restock(2)] },
    'agree',
  ],
  [
    'CANCELLED after CONFIRMED, committed, never restocked',
    { order: order('CANCELLED'), reservation: reservation('COMMITTED'), cancelRestocks: [restock(0)] },
    'restock',
  ],
  [
    'CANCELLED, committed, restocked with other units (the key cannot be repeated)',
    { order: order('CANCELLED'), reservation: reservation('COMMITTED'), cancelRestocks: [restock(1)] },
    'human',
  ],
  ['FAILED, no reservation', { order: order('FAILED') }, 'agree'],
  ['FAILED, released', { order: order('FAILED'), reservation: reservation('RELEASED') }, 'agree'],
  ['FAILED, expired', { order: order('FAILED'), reservation: reservation('EXPIRED') }, 'agree'],
  ['FAILED, still reserved', { order: order('FAILED'), reservation: reservation('RESERVED') }, 'release'],
  ['FAILED, committed', { order: order('FAILED'), reservation: reservation('COMMITTED') }, 'human'],
  ['no order, reserved (orphan)', { reservation: reservation('RESERVED') }, 'release'],
  ['no order, committed', { reservation: reservation('COMMITTED') }, 'human'],
  ['no order, released', { reservation: reservation('RELEASED') }, 'agree'],
  ['no order, expired', { reservation: reservation('EXPIRED') }, 'agree'],
];

describe('reconcile: the agreement table', () => {
  for (const [name, pair, expected] of TABLE) {
    it(`${name} → ${expected}`, () => expect(outcome(pair)).to.equal(expected));
  }

  it('names what to restock: only the products that never went back', () => {
    const verdict = judge(
      {
        order: order('CANCELLED'),
        reservation: reservation('COMMITTED'),
        cancelRestocks: [restock(2), { productId: 'p-2', quantity: 3, restockedUnits: 0 }],
      },
      NOW,
      GRACE_MS,
    );
    expect(verdict).to.deep.include({ kind: 'disagree', repair: { action: 'restock', items: [{ productId: 'p-2', quantity: 3 }] } });
  });
});

describe('reconcile: work in flight within the grace period', () => {
  const cancelledHeld = (o: Partial<OrderSide>, r: Partial<ReservationSide> = {}): Pair => ({
    order: order('CANCELLED', o),
    reservation: reservation('RESERVED', r),
  });

  it('an order that changed less than the grace period ago is in flight', () => {
    expect(outcome(cancelledHeld({ updatedAt: ago(5) }))).to.equal('inFlight');
  });
  it('a reservation that changed less than the grace period ago is in flight', () => {
    expect(outcome({ order: order('CONFIRMED'), reservation: reservation('RESERVED', { updatedAt: ago(5) }) })).to.equal('inFlight');
  });
  it('an order a saga step holds (live lease) is in flight, however old its last change', () => {
    expect(outcome(cancelledHeld({ leaseUntil: later(10) }))).to.equal('inFlight');
    expect(outcome(cancelledHeld({ leaseUntil: ago(10) })), 'a lapsed lease protects nothing').to.equal('release');
  });
  it('a reservation that expired within the grace period waits for the sweeper', () => {
    expect(outcome({ order: order('RESERVED'), reservation: expired() })).to.equal('human');
    expect(outcome({ order: order('RESERVED'), reservation: reservation('RESERVED', { expiresAt: ago(5) }) })).to.equal('inFlight');
  });
  it('an orphan reservation younger than the grace period is in flight', () => {
    expect(outcome({ reservation: reservation('RESERVED', { updatedAt: ago(5) }) })).to.equal('inFlight');
  });
  it('with no grace (after the system settled) the same pair is a disagreement', () => {
    expect(judge(cancelledHeld({ updatedAt: ago(5) }), NOW, 0).kind).to.equal('disagree');
  });
  it('agreeing pairs are agreements, never "in flight"', () => {
    expect(outcome({ order: order('CONFIRMED', { updatedAt: ago(1) }), reservation: reservation('COMMITTED') })).to.equal('agree');
  });
});

describe('reconcile: pairing both tables page by page', () => {
  const ids = (n: number) => Array.from({ length: n }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
  async function* from<T>(rows: T[]) {
    yield* rows;
  }

  it('reads every row once across pages, asking for the rows after the last key', async () => {
    const all = ids(7);
    const asked: (string | undefined)[] = [];
    const read = async (after: string | undefined, limit: number) => {
      asked.push(after);
      return all.filter((id) => after === undefined || id > after).slice(0, limit);
    };
    const seen: string[] = [];
    for await (const id of keysetRows(read, (id) => id, 3)) seen.push(id);
    expect(seen).to.deep.equal(all);
    expect(asked).to.deep.equal([undefined, all[2], all[5]]);
  });

  it('pairs equal keys and keeps each side that has no partner', async () => {
    const [a, b, c, d] = ids(4) as [string, string, string, string];
    const pairs: string[] = [];
    for await (const { left, right } of mergeByKey(
      from([a, c, d]),
      from([b, c]),
      (x) => x,
      (x) => x,
    )) {
      pairs.push(`${left ?? '-'}|${right ?? '-'}`);
    }
    expect(pairs).to.deep.equal([`${a}|-`, `-|${b}`, `${c}|${c}`, `${d}|-`]);
  });
});

describe('reconcile: options', () => {
  it('takes flags and the grace period, and refuses an unknown flag or a bad number', () => {
    const options = readOptions(['--json', '--repair', '--grace-seconds', '0', '--page-size=10'], {});
    expect(options).to.include({ json: true, repair: true, graceMs: 0, pageSize: 10 });
    expect(readOptions([], {}).graceMs).to.equal(60_000);
    expect(() => readOptions(['--fix'], {})).to.throw(UsageError, /--fix/);
    expect(() => readOptions(['--grace-seconds', 'soon'], {})).to.throw(UsageError, /--grace-seconds/);
    expect(() => readOptions([], { ORDER_DATABASE_URL: 'mysql://x' })).to.throw(/ORDER_DATABASE_URL/);
  });
});

describe('reconcile: where the units are (allocation lines)', () => {
  const line = (productId: string, locationId: string, quantity: number) => ({ productId, locationId, quantity });
  const held = (orderLines: ReturnType<typeof line>[], reservationLines: ReturnType<typeof line>[]): Pair => ({
    order: order('CONFIRMED'),
    reservation: reservation('COMMITTED'),
    allocations: { order: orderLines, reservation: reservationLines },
  });

  it('agrees when every (product, location) holds the same units, whatever the lines look like', () => {
    expect(outcome(held([line('p-1', 'l-1', 3), line('p-1', 'l-2', 2)], [line('p-1', 'l-2', 2), line('p-1', 'l-1', 3)]))).to.equal('agree');
    expect(outcome(held([line('p-1', 'l-1', 5)], [line('p-1', 'l-1', 2), line('p-1', 'l-1', 3)]))).to.equal('agree');
  });

  it('reports units at another location than the order recorded, for a human', () => {
    const verdict = judge(held([line('p-1', 'l-1', 3)], [line('p-1', 'l-2', 3)]), NOW, GRACE_MS);
    expect(verdict).to.deep.include({ kind: 'disagree', repair: { action: 'none' } });
    expect((verdict as { problem: string }).problem)
      .to.include('p-1@l-1: order 3, reservation 0')
      .and.include('p-1@l-2: order 0, reservation 3');
  });

  it('reports a different quantity at the same location, and a line one side lacks', () => {
    expect(outcome(held([line('p-1', 'l-1', 3)], [line('p-1', 'l-1', 2)]))).to.equal('human');
    expect(outcome(held([line('p-1', 'l-1', 3), line('p-2', 'l-1', 1)], [line('p-1', 'l-1', 3)]))).to.equal('human');
  });

  it('is work in flight while the pair moved within the grace period', () => {
    const pair = held([line('p-1', 'l-1', 3)], [line('p-1', 'l-2', 3)]);
    expect(outcome({ ...pair, order: order('CONFIRMED', { updatedAt: ago(5) }) })).to.equal('inFlight');
  });

  it('a status disagreement is reported first', () => {
    const pair = { ...held([line('p-1', 'l-1', 3)], [line('p-1', 'l-2', 3)]), reservation: reservation('RESERVED') };
    expect(outcome(pair)).to.equal('commit');
  });
});
