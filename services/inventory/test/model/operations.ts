import fc from 'fast-check';
import { LOCATIONS, type Line, type Op, type Routing } from './reservation-model.js';

/**
 * Random sequences of calls for the model test, over small pools so that
 * sequences collide: a few products with little stock at each of the model's
 * locations, a few order ids, two idempotency keys, TTLs and clock ticks of the
 * same few seconds (so a tick lands exactly on an expiry too), and reservations
 * routed every way: anywhere, pinned, to a destination single or split.
 */
export const PRODUCTS = 3;
export const ORDERS = 4;
export const KEYS = 2;
/** Transfer keys: two, so a repeat and a reuse of a key both happen. */
export const TRANSFERS = 2;

/** One step of a sequence: a call alone, or two issued at once; `again` repeats the step right after. */
export interface Step {
  op: Op;
  /** Issued together with op (Promise.all); 'same' sends op twice at once. */
  with?: Op | 'same';
  again?: true;
}

export interface Scenario {
  /** Initial stock per product, per location. */
  initialStock: number[][];
  steps: Step[];
}

const product = fc.integer({ min: 0, max: PRODUCTS - 1 });
const location = fc.integer({ min: 0, max: LOCATIONS - 1 });
const routing: fc.Arbitrary<Routing> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 1, arbitrary: location.map((l) => ({ kind: 'pinned' as const, location: l })) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('destination' as const),
      destination: fc.constantFrom(0 as const, 1 as const),
      policy: fc.constantFrom('SINGLE_LOCATION' as const, 'SPLIT_ALLOWED' as const),
    }),
  },
);
const order = fc.integer({ min: 0, max: ORDERS - 1 });
const ttlSeconds = fc.constantFrom(1, 2, 5);
const units = fc.integer({ min: 1, max: 3 });

const items: fc.Arbitrary<Line[]> = fc.uniqueArray(fc.record({ product, quantity: units }), {
  minLength: 1,
  maxLength: 2,
  selector: (line) => line.product,
});

const adjustment = fc.oneof(
  units.map((n) => ({ reason: 'RESTOCK' as const, delta: n })),
  units.map((n) => ({ reason: 'DAMAGED' as const, delta: -n })),
  fc.tuple(units, fc.boolean()).map(([n, down]) => ({ reason: 'CORRECTION' as const, delta: down ? -n : n })),
);

/** Calls that reach the service (everything but a clock tick). */
const call: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record(
      // A missing TTL (the server's default, 3 s in the test) a quarter of the time.
      { kind: fc.constant('reserve' as const), order, items, ttlSeconds: fc.option(ttlSeconds, { nil: undefined, freq: 4 }), routing },
      { requiredKeys: ['kind', 'order', 'items', 'routing'] },
    ),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('commit' as const), order }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('release' as const), order }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('extend' as const), order, ttlSeconds }) },
  {
    weight: 2,
    arbitrary: fc
      .record({ key: fc.integer({ min: 0, max: KEYS - 1 }), product, location, adjustment })
      .map(({ key, product, location, adjustment }) => ({ kind: 'adjust' as const, key, product, location, ...adjustment })),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'sweep' as const }) },
);

const transfer = fc.integer({ min: 0, max: TRANSFERS - 1 });

/**
 * Transfers, as steps of their own (never one of a concurrent pair: the driver
 * learns a transfer's id from its create, which a partner could not wait for;
 * transfer-races.test.ts covers transfers racing reservations).
 */
const transferCall: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc
      .record({ transfer, product, from: location, hop: fc.integer({ min: 1, max: LOCATIONS - 1 }), quantity: units })
      .map(({ transfer, product, from, hop, quantity }) => ({
        kind: 'send' as const,
        transfer,
        product,
        from,
        to: (from + hop) % LOCATIONS,
        quantity,
      })),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('receive' as const), transfer, lost: fc.constantFrom(0, 0, 1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancelTransfer' as const), transfer }) },
);

const tick: fc.Arbitrary<Op> = fc.record({ kind: fc.constant('tick' as const), ms: fc.constantFrom(500, 1000, 2000, 5000) });

/** Shrinks toward undefined (no concurrent partner, no repeat): fast-check tries the first arbitrary first. */
const sometimes = <T>(arbitrary: fc.Arbitrary<T>, weight: number) =>
  fc.oneof({ withCrossShrink: true }, { weight: 4, arbitrary: fc.constant(undefined) }, { weight, arbitrary });

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 2, arbitrary: tick.map((op) => ({ op })) },
  { weight: 3, arbitrary: transferCall.map((op) => ({ op })) },
  {
    weight: 10,
    arbitrary: fc
      .record({
        op: call,
        with: sometimes(fc.oneof({ weight: 1, arbitrary: fc.constant('same' as const) }, { weight: 3, arbitrary: call }), 1),
        again: sometimes(fc.constant(true as const), 1),
      })
      .map(({ op, with: partner, again }) => ({ op, ...(partner && { with: partner }), ...(again && { again }) })),
  },
);

export const scenarios: fc.Arbitrary<Scenario> = fc.record({
  initialStock: fc.array(fc.array(fc.integer({ min: 0, max: 4 }), { minLength: LOCATIONS, maxLength: LOCATIONS }), {
    minLength: PRODUCTS,
    maxLength: PRODUCTS,
  }),
  steps: fc.array(step, { minLength: 1, maxLength: 12 }),
});
