import { randomUUID } from 'node:crypto';
import type { TestInventory } from '../harness.js';
import { freshProducts } from './fresh-products.js';
import { KEYS, ORDERS, type Scenario, type Step } from './operations.js';
import {
  describeAnswer,
  describeOp,
  describeState,
  initialState,
  interleavings,
  reservationsOf,
  stateKey,
  step as modelStep,
  type Answer,
  type ModelState,
} from './reservation-model.js';
import { ServiceDriver } from './service-driver.js';

/** The server's default TTL in the model test (RESERVATION_TTL_MS), so a tick can reach it. */
export const DEFAULT_TTL_MS = 3_000;

/**
 * Each run lives an hour before the previous one: reservations other runs
 * left RESERVED then expire after any time this run reaches (a run moves its
 * clock by minutes at most), so its sweeps see only its own reservations and
 * never pay for earlier runs'.
 */
const RUN_SPACING_MS = 3_600_000;

const describeStep = (s: Step) => {
  const partner = s.with === undefined ? '' : ` || ${s.with === 'same' ? 'the same' : describeOp(s.with)}`;
  return `${describeOp(s.op)}${partner}${s.again ? ' (twice)' : ''}`;
};

/** One possible outcome of a step: the answers (in the step's call order) and the state after. */
interface Outcome {
  state: ModelState;
  answers: Answer[];
}

function allowedOutcomes(state: ModelState, s: Step): Outcome[] {
  if (s.with === undefined) {
    const { state: next, answer } = modelStep(state, s.op);
    return [{ state: next, answers: [answer] }];
  }
  return interleavings(state, s.op, s.with === 'same' ? s.op : s.with);
}

/**
 * Runs one scenario against the service with fresh products, order ids and
 * keys, and throws at the first answer no serial order of the model allows,
 * or if the final stock and reservations differ from the model's.
 */
export async function runScenario(
  inv: TestInventory,
  clock: { now(): Date; advance(ms: number): void },
  locations: readonly string[],
  scenario: Scenario,
): Promise<void> {
  clock.advance(-RUN_SPACING_MS);
  const origin = clock.now().getTime();
  const ids = {
    products: await freshProducts(inv.db, scenario.initialStock, locations, clock.now()),
    locations,
    orders: Array.from({ length: ORDERS }, () => randomUUID()),
    keys: Array.from({ length: KEYS }, () => `model-${randomUUID()}`),
  };
  const driver = new ServiceDriver(inv.api, inv.running.deps, clock, ids);
  const text = (answers: Answer[]) => answers.map((a) => describeAnswer(a, origin)).join(' | ');
  // More than one state only after a pair whose serial orders answer alike but end apart.
  let candidates: ModelState[] = [initialState(scenario.initialStock, origin, DEFAULT_TTL_MS)];
  const trace: string[] = [];
  for (const s of scenario.steps.flatMap((s) => (s.again ? [s, s] : [s]))) {
    const calls = s.with === undefined ? [s.op] : [s.op, s.with === 'same' ? s.op : s.with];
    const observed = text(await Promise.all(calls.map((op) => driver.call(op))));
    const allowed = candidates.flatMap((state) => allowedOutcomes(state, s));
    trace.push(`${describeStep({ ...s, again: undefined })} -> ${observed}`);
    const matching = allowed.filter((o) => text(o.answers) === observed);
    if (matching.length === 0) {
      const expected = [...new Set(allowed.map((o) => text(o.answers)))].join('\n    or ');
      throw new Error(`the service answered what the model does not allow\n  ${trace.join('\n  ')}\n  model: ${expected}`);
    }
    candidates = [...new Map(matching.map((o) => [stateKey(o.state), o.state])).values()];
  }
  // Orders no reserve named have nothing to read (and a NOT_FOUND costs as much as a read).
  const named = [
    ...new Set(
      scenario.steps.flatMap((s) => [s.op, s.with]).flatMap((op) => (op && op !== 'same' && op.kind === 'reserve' ? [op.order] : [])),
    ),
  ];
  const real = describeState(await driver.state(named), origin);
  const expected = candidates.map((state) => describeState({ stock: state.stock, reservations: reservationsOf(state, named) }, origin));
  if (!expected.includes(real)) {
    throw new Error(
      `the service's state differs from the model's\n  ${trace.join('\n  ')}\nservice:\n${real}\nmodel:\n${expected.join('\nor\n')}`,
    );
  }
}
