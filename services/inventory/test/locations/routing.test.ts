import { randomUUID } from 'node:crypto';
import { status as Code } from '@grpc/grpc-js';
import { expect } from 'chai';
import { ReservationReserved, StockLow } from '#libs/contracts/larder/inventory/v1/events.js';
import { AllocationPolicy } from '#libs/contracts/larder/inventory/v1/locations.js';
import { ReservationStatus, type AllocationLine } from '#libs/contracts/larder/inventory/v1/resources.js';
import { eventually } from '#test/support/eventually.js';
import { preconditionFailureOf } from '#libs/grpc/status.js';
import { expectGrpcError, outcomeOf, tally } from '#test/support/grpc-errors.js';
import { createTestProduct, testInventoryPerSuite } from '../harness.js';
import { insertPlace, stockAt, type PlaceFields } from './stock-places.js';

const { ALLOCATION_POLICY_SINGLE_LOCATION: SINGLE, ALLOCATION_POLICY_SPLIT_ALLOWED: SPLIT } = AllocationPolicy;

// Berlin: the customer in Mitte; places at about 0, 2.3 and 14 km.
const CUSTOMER = { latitude: 52.52, longitude: 13.405 };
const NEAR = { latitude: 52.521, longitude: 13.406 };
const MIDDLE = { latitude: 52.499, longitude: 13.403 };
const FAR = { latitude: 52.535, longitude: 13.2 };

let codes = 0;
const code = (name: string) => `${name}-${++codes}-${randomUUID().slice(0, 8)}`;

/** ReserveStock routing, allocation lines and their settlement per location (docs/design.md §8). */
describe('stock in many places: routing ReserveStock', function () {
  this.timeout(120_000);
  // Locations are inserted with SQL below: read them at once instead of within a second.
  const inv = testInventoryPerSuite({ env: { LOCATION_CACHE_MS: '0' } });

  async function place(fields: Partial<PlaceFields> & { name?: string } = {}) {
    return insertPlace(inv().db, { code: code(fields.name ?? 'place'), ...fields });
  }
  /** A product with no stock at the default location, stocked at the given places. */
  async function productAt(units: Record<string, number>) {
    const product = await createTestProduct(inv().api, { initialStock: 0 });
    for (const [locationId, n] of Object.entries(units)) await stockAt(inv().api, product.id, locationId, n);
    return product.id;
  }
  async function levelAt(productId: string, locationId: string) {
    return (await inv().api.batchGetStockLevels({ productIds: [productId], locationId })).stockLevels[0]!;
  }
  const byLocation = (lines: readonly AllocationLine[]) => Object.fromEntries(lines.map((l) => [l.locationId, l.quantity]));

  it('grants exactly the 10 units of a pinned location to 300 concurrent buyers, leaving another location untouched', async () => {
    const pickup = await place({ name: 'pickup', pickup: true });
    const other = await place({ name: 'other' });
    const productId = await productAt({ [pickup]: 10, [other]: 1_000 });
    const outcomes = await Promise.all(
      Array.from({ length: 300 }, () =>
        outcomeOf(inv().api.reserveStock({ orderId: randomUUID(), items: [{ productId, quantity: 1 }], locationId: pickup })),
      ),
    );
    expect(tally(outcomes)).to.deep.equal({ OK: 10, FAILED_PRECONDITION: 290 });
    expect(await levelAt(productId, pickup)).to.include({ available: 0, reserved: 10 });
    expect(await levelAt(productId, other)).to.include({ available: 1_000, reserved: 0 });
  });

  it('routes 300 concurrent buyers over 4 + 3 + 3 units at three serving locations: exactly 10, none from one that does not serve', async () => {
    const a = await place({ name: 'a', prefixes: ['101'], ...NEAR });
    const b = await place({ name: 'b', radiusKm: 5, ...MIDDLE });
    const c = await place({ name: 'c', prefixes: ['10'], ...FAR });
    const elsewhere = await place({ name: 'elsewhere', prefixes: ['80'], ...NEAR });
    const productId = await productAt({ [a]: 4, [b]: 3, [c]: 3, [elsewhere]: 1_000 });
    const granted: AllocationLine[] = [];
    const outcomes = await Promise.all(
      Array.from({ length: 300 }, async () => {
        const call = inv().api.reserveStock({
          orderId: randomUUID(),
          items: [{ productId, quantity: 1 }],
          destination: { postalCode: '10115', coordinates: CUSTOMER },
        });
        const outcome = await outcomeOf(call);
        if (outcome === 'OK') granted.push(...(await call).reservation!.allocations);
        return outcome;
      }),
    );
    expect(tally(outcomes)).to.deep.equal({ OK: 10, FAILED_PRECONDITION: 290 });
    const from = tally(granted.map((l) => l.locationId));
    expect(from).to.deep.equal({ [a]: 4, [b]: 3, [c]: 3 });
    expect(await levelAt(productId, elsewhere)).to.include({ available: 1_000, reserved: 0 });
    for (const [id, units] of [
      [a, 4],
      [b, 3],
      [c, 3],
    ] as const) {
      expect(await levelAt(productId, id)).to.include({ available: 0, reserved: units });
    }
  });

  describe('chooses locations by the policy: distance, then priority, then code', () => {
    interface Case {
      name: string;
      /** Places by name: where they are and what they hold of products x and y. */
      places: Record<string, Partial<PlaceFields> & { x?: number; y?: number }>;
      want: { x?: number; y?: number };
      policy: AllocationPolicy;
      /** Expected allocation: place name → units of x and y; or 'short'. */
      expect: Record<string, { x?: number; y?: number }> | 'short';
    }
    const cases: Case[] = [
      {
        name: 'single: the nearest of two that can both fill it',
        places: { near: { ...NEAR, x: 5 }, far: { ...FAR, x: 5 } },
        want: { x: 2 },
        policy: SINGLE,
        expect: { near: { x: 2 } },
      },
      {
        name: 'single: the farther one when the nearest cannot fill every item',
        places: { near: { ...NEAR, x: 5, y: 1 }, far: { ...FAR, x: 5, y: 5 } },
        want: { x: 2, y: 2 },
        policy: SINGLE,
        expect: { far: { x: 2, y: 2 } },
      },
      {
        name: 'single: at the same distance the higher priority',
        places: { low: { ...MIDDLE, priority: 1, x: 5 }, high: { ...MIDDLE, priority: 7, x: 5 } },
        want: { x: 1 },
        policy: SINGLE,
        expect: { high: { x: 1 } },
      },
      {
        name: 'single: same distance and priority, the lower code',
        places: { bbb: { ...MIDDLE, x: 5 }, aaa: { ...MIDDLE, x: 5 } },
        want: { x: 1 },
        policy: SINGLE,
        expect: { aaa: { x: 1 } },
      },
      {
        name: 'single never splits: short when no one location has every item',
        places: { near: { ...NEAR, x: 5 }, far: { ...FAR, y: 5 } },
        want: { x: 1, y: 1 },
        policy: SINGLE,
        expect: 'short',
      },
      {
        name: 'single never splits one item either',
        places: { near: { ...NEAR, x: 3 }, far: { ...FAR, x: 3 } },
        want: { x: 5 },
        policy: SINGLE,
        expect: 'short',
      },
      {
        name: 'split: one location when one can fill it, even a farther one',
        places: { near: { ...NEAR, x: 5 }, middle: { ...MIDDLE, y: 5 }, far: { ...FAR, x: 5, y: 5 } },
        want: { x: 1, y: 1 },
        policy: SPLIT,
        expect: { far: { x: 1, y: 1 } },
      },
      {
        name: 'split: the fewest locations, nearest first, each item whole',
        places: { near: { ...NEAR, x: 5 }, middle: { ...MIDDLE, x: 5 }, far: { ...FAR, y: 5 } },
        want: { x: 2, y: 2 },
        policy: SPLIT,
        expect: { near: { x: 2 }, far: { y: 2 } },
      },
      {
        name: 'split: an item split only when no single location has it, the nearest first',
        places: { near: { ...NEAR, x: 3 }, middle: { ...MIDDLE, x: 1 }, far: { ...FAR, x: 4 } },
        want: { x: 5 },
        policy: SPLIT,
        expect: { near: { x: 3 }, middle: { x: 1 }, far: { x: 1 } },
      },
      {
        name: 'split: short when all of them together have too little',
        places: { near: { ...NEAR, x: 2 }, far: { ...FAR, x: 2 } },
        want: { x: 5 },
        policy: SPLIT,
        expect: 'short',
      },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const [x, y] = [await productAt({}), await productAt({})];
        const ids: Record<string, string> = {};
        const names: Record<string, string> = {};
        // The customer's postal code is served by every place of the case, and by no one else's.
        const area = `9${String(codes).padStart(4, '0')}`;
        for (const [name, { x: ux, y: uy, ...fields }] of Object.entries(c.places)) {
          ids[name] = await insertPlace(inv().db, { ...fields, code: `${name}-${code('c')}`, prefixes: [area] });
          names[ids[name]] = name;
          if (ux) await stockAt(inv().api, x, ids[name], ux);
          if (uy) await stockAt(inv().api, y, ids[name], uy);
        }
        const items = [
          ...(c.want.x ? [{ productId: x, quantity: c.want.x }] : []),
          ...(c.want.y ? [{ productId: y, quantity: c.want.y }] : []),
        ];
        const call = inv().api.reserveStock({
          orderId: randomUUID(),
          items,
          destination: { postalCode: `${area}1`, coordinates: CUSTOMER },
          policy: c.policy,
        });
        if (c.expect === 'short') {
          const { reason } = await expectGrpcError(call, Code.FAILED_PRECONDITION);
          expect(reason).to.equal('INSUFFICIENT_STOCK');
          return;
        }
        const got: Record<string, { x?: number; y?: number }> = {};
        for (const line of (await call).reservation!.allocations) {
          const at = (got[names[line.locationId] ?? line.locationId] ??= {});
          at[line.productId === x ? 'x' : 'y'] = line.quantity;
        }
        expect(got).to.deep.equal(c.expect);
      });
    }
  });

  it('never reserves safety stock, and reports available_to_sell per location and in total', async () => {
    const store = await place({ name: 'safety' });
    const productId = await productAt({ [store]: 10 });
    await inv().api.updateStockSettings({
      productId,
      locationId: store,
      safetyStock: 4,
      lowStockThreshold: undefined,
      updateMask: ['safety_stock'],
    });
    const pinned = (quantity: number) =>
      inv().api.reserveStock({ orderId: randomUUID(), items: [{ productId, quantity }], locationId: store });
    const { info } = await expectGrpcError(pinned(7), Code.FAILED_PRECONDITION);
    expect(info?.metadata).to.include({ product_id: productId, requested: '7', available: '6' });
    await pinned(6);
    expect(await levelAt(productId, store)).to.include({
      available: 4,
      reserved: 6,
      safetyStock: 4,
      availableToSell: 0,
      onHand: 10,
    });
    const [total] = (await inv().api.batchGetStockLevels({ productIds: [productId] })).stockLevels;
    expect(total).to.include({ locationId: '', available: 4, reserved: 6, safetyStock: 4, availableToSell: 0, onHand: 10 });
    expect(total!.locations.map((l) => l.locationId)).to.include(store);
  });

  it('refuses a pinned inactive location (FAILED_PRECONDITION) and passes over an inactive one when routing', async () => {
    const closed = await place({ name: 'closed', ...NEAR, prefixes: ['777'] });
    const open = await place({ name: 'open', ...FAR, prefixes: ['777'] });
    const productId = await productAt({ [closed]: 5, [open]: 5 });
    await inv().db('locations').update({ active: false }).where({ id: closed });
    const { reason, info } = await expectGrpcError(
      inv().api.reserveStock({ orderId: randomUUID(), items: [{ productId, quantity: 1 }], locationId: closed }),
      Code.FAILED_PRECONDITION,
    );
    expect(reason).to.equal('LOCATION_INACTIVE');
    expect(info?.metadata.location_id).to.equal(closed);
    const { reservation } = await inv().api.reserveStock({
      orderId: randomUUID(),
      items: [{ productId, quantity: 1 }],
      destination: { postalCode: '77712', coordinates: CUSTOMER },
    });
    expect(byLocation(reservation!.allocations)).to.deep.equal({ [open]: 1 });
  });

  it('names an unknown pinned location (NOT_FOUND) and refuses contradictory or malformed routing input, changing nothing', async () => {
    const productId = await productAt({});
    const reserve = (extra: object) =>
      inv().api.reserveStock({ orderId: randomUUID(), items: [{ productId, quantity: 1 }], ...extra } as never);
    const unknown = randomUUID();
    const { reason, info } = await expectGrpcError(reserve({ locationId: unknown }), Code.NOT_FOUND);
    expect(reason).to.equal('LOCATION_NOT_FOUND');
    expect(info?.metadata.id).to.equal(unknown);
    const somewhere = await place();
    const bad: [object, string][] = [
      [{ locationId: 'not-a-uuid' }, 'location_id'],
      [{ locationId: somewhere, destination: { postalCode: '10115' } }, 'destination'],
      [{ locationId: somewhere, policy: SPLIT }, 'policy'],
      [{ destination: {} }, 'destination'],
      [{ destination: { postalCode: '!!' } }, 'destination.postal_code'],
      [{ destination: { coordinates: { latitude: 91, longitude: 0 } } }, 'destination.coordinates.latitude'],
      [{ destination: { coordinates: { latitude: Number.NaN, longitude: 0 } } }, 'destination.coordinates.latitude'],
      [{ destination: { coordinates: { latitude: 0, longitude: Number.POSITIVE_INFINITY } } }, 'destination.coordinates.longitude'],
      [{ policy: 99 }, 'policy'],
    ];
    for (const [extra, field] of bad) {
      expect((await expectGrpcError(reserve(extra), Code.INVALID_ARGUMENT)).field, JSON.stringify(extra)).to.equal(field);
    }
    expect(await inv().db('reservation_items').where({ product_id: productId })).to.deep.equal([]);
  });

  it('names each item and the best there is when no allocation fits', async () => {
    const [p, q] = [await place({ prefixes: ['55'] }), await place({ prefixes: ['55'] })];
    const x = await productAt({ [p]: 2, [q]: 3 });
    const y = await productAt({ [p]: 9 });
    const reserve = (policy: AllocationPolicy) =>
      inv().api.reserveStock({
        orderId: randomUUID(),
        items: [
          { productId: x, quantity: 4 },
          { productId: y, quantity: 1 },
        ],
        destination: { postalCode: '5500' },
        policy,
      });
    const single = await expectGrpcError(reserve(SINGLE), Code.FAILED_PRECONDITION);
    expect(single.info?.metadata).to.include({ product_id: x, requested: '4', available: '3' });
    const lines = JSON.parse(single.info!.metadata.lines!) as { product_id: string; available: number }[];
    expect(lines.map((l) => l.available).sort()).to.deep.equal([3, 9]);
    expect(
      preconditionFailureOf(single.error)
        ?.violations.map((v) => [v.subject, v.description])
        .sort(),
    ).to.deep.equal(
      [
        [`product/${x}`, '4 requested, 3 available'],
        [`product/${y}`, '1 requested, 9 available'],
      ].sort(),
    );
    // Split: 2 + 3 of x are enough, so it fits.
    const { reservation } = await inv().api.reserveStock({
      orderId: randomUUID(),
      items: [
        { productId: x, quantity: 4 },
        { productId: y, quantity: 1 },
      ],
      destination: { postalCode: '5500' },
      policy: SPLIT,
    });
    expect(reservation!.items.map((i) => i.quantity)).to.have.members([4, 1]);
    expect(reservation!.allocations.reduce((n, l) => n + l.quantity, 0)).to.equal(5);
  });

  it('replays a repeat with its allocation lines, refuses the same order with another destination, and GetReservation shows them', async () => {
    const [p, q] = [await place({ prefixes: ['66'] }), await place({ prefixes: ['66'] })];
    const productId = await productAt({ [p]: 2, [q]: 2 });
    const orderId = randomUUID();
    const request = { orderId, items: [{ productId, quantity: 3 }], destination: { postalCode: '6600' } };
    const first = (await inv().api.reserveStock(request)).reservation!;
    expect(first.allocations).to.have.length(2);
    const again = (await inv().api.reserveStock(request)).reservation!;
    expect(again.allocations).to.deep.equal(first.allocations);
    expect((await inv().api.getReservation({ orderId })).reservation!.allocations).to.deep.equal(first.allocations);
    const { reason } = await expectGrpcError(
      inv().api.reserveStock({ ...request, destination: { postalCode: '6601' } }),
      Code.ALREADY_EXISTS,
    );
    expect(reason).to.equal('IDEMPOTENCY_KEY_REUSED');
  });

  it('publishes the allocation lines in the reserved event, and StockLow for the location that crossed its threshold', async () => {
    const [p, q] = [await place({ prefixes: ['33'] }), await place({ prefixes: ['33'] })];
    const product = await createTestProduct(inv().api, { initialStock: 0, lowStockThreshold: 2 });
    await stockAt(inv().api, product.id, p, 4);
    await stockAt(inv().api, product.id, q, 9);
    // q's own threshold is 8: crossing it there says so too.
    await inv().api.updateStockSettings({
      productId: product.id,
      locationId: q,
      lowStockThreshold: 8,
      updateMask: ['low_stock_threshold'],
    });
    const orderId = randomUUID();
    const { reservation } = await inv().api.reserveStock({
      orderId,
      items: [{ productId: product.id, quantity: 12 }],
      destination: { postalCode: '3300' },
    });
    const events = await inv()
      .db('outbox')
      .whereIn('subject', ['inventory.reservation.reserved', 'inventory.stock.low'])
      .select('subject', 'payload');
    const reserved = events
      .filter((e) => e.subject === 'inventory.reservation.reserved')
      .map((e) => ReservationReserved.decode(e.payload))
      .find((e) => e.reservation!.orderId === orderId);
    expect(reserved!.reservation!.allocations).to.deep.equal(reservation!.allocations);
    expect(reserved!.reservation!.items.map((i) => i.quantity)).to.deep.equal([12]);
    const lows = events
      .filter((e) => e.subject === 'inventory.stock.low')
      .map((e) => StockLow.decode(e.payload))
      .filter((e) => e.productId === product.id);
    const left = Object.fromEntries([p, q].map((id) => [id, 0]));
    for (const line of reservation!.allocations) left[line.locationId] = (line.locationId === p ? 4 : 9) - line.quantity;
    expect(lows.map((e) => [e.locationId, e.available, e.lowStockThreshold]).sort()).to.deep.equal(
      [
        [p, left[p], 2],
        [q, left[q], 8],
      ].sort(),
    );
  });

  it('settles a split reservation per allocation line: release, commit and expiry move each location its own units', async () => {
    const [p, q] = [await place({ prefixes: ['44'] }), await place({ prefixes: ['44'] })];
    const productId = await productAt({ [p]: 3, [q]: 3 });
    const reserve = async (quantity: number, ttl?: { seconds: number; nanos: number }) => {
      const orderId = randomUUID();
      const { reservation } = await inv().api.reserveStock({
        orderId,
        items: [{ productId, quantity }],
        destination: { postalCode: '4400' },
        ...(ttl ? { ttl } : {}),
      });
      return { orderId, at: byLocation(reservation!.allocations) };
    };
    const released = await reserve(4);
    await inv().api.releaseReservation({ orderId: released.orderId, reason: 'test' });
    expect((await levelAt(productId, p)).available + (await levelAt(productId, q)).available).to.equal(6);
    const committed = await reserve(4);
    await inv().api.commitReservation({ orderId: committed.orderId });
    for (const [id, units] of Object.entries(committed.at)) {
      expect(await levelAt(productId, id)).to.include({ sold: units, reserved: 0 });
    }
    // The last 2 units, reserved for 1 s and left to the sweeper: back where they were taken.
    const expiring = await reserve(2, { seconds: 1, nanos: 0 });
    const unreserved = async () => (await levelAt(productId, p)).reserved + (await levelAt(productId, q)).reserved;
    expect(await unreserved()).to.equal(2);
    await eventually('the sweeper expired it', async () => (await unreserved()) === 0 || `${await unreserved()} reserved`);
    const status = (await inv().api.getReservation({ orderId: expiring.orderId })).reservation!.status;
    expect(status).to.equal(ReservationStatus.RESERVATION_STATUS_EXPIRED);
    expect((await levelAt(productId, p)).available + (await levelAt(productId, q)).available).to.equal(2);
  });
});
