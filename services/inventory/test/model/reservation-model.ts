/**
 * A reference model of the inventory's reservation state machine, written from
 * the contract (proto/larder/inventory/v1/inventory_service.proto and docs/design.md §2),
 * not from the service's code: pure TypeScript over small integer indexes
 * (product 0, order 1, idempotency key 0, …) that the model test maps to the
 * run's real ids. step() answers what the service must answer for one call —
 * the gRPC code, the reservation or stock it returns — and the state after it.
 */

export type Code = 'OK' | 'NOT_FOUND' | 'FAILED_PRECONDITION' | 'ALREADY_EXISTS';
export type Status = 'RESERVED' | 'COMMITTED' | 'RELEASED' | 'EXPIRED';
export type AdjustReason = 'RESTOCK' | 'DAMAGED' | 'CORRECTION';

export interface Line {
  product: number;
  quantity: number;
}

export interface Stock {
  available: number;
  reserved: number;
  sold: number;
}

export interface ModelReservation {
  status: Status;
  /** Sorted by product index. */
  items: readonly Line[];
  /** Epoch milliseconds. */
  expiresAt: number;
}

/** One call to the service (sweep: the expiry job once; tick: time passes, no call). */
export type Op =
  | { kind: 'reserve'; order: number; items: readonly Line[]; ttlSeconds?: number }
  | { kind: 'commit'; order: number }
  | { kind: 'release'; order: number }
  | { kind: 'extend'; order: number; ttlSeconds: number }
  | { kind: 'adjust'; key: number; product: number; delta: number; reason: AdjustReason }
  | { kind: 'sweep' }
  | { kind: 'tick'; ms: number };

/** What a call answers: its code and, when OK, what it returns. */
export interface Answer {
  /** A gRPC status name: one of Code from the model, whatever the service sent from the service. */
  code: string;
  reservation?: ModelReservation;
  stock?: Stock;
  expired?: number;
}

interface Adjustment {
  product: number;
  delta: number;
  reason: AdjustReason;
  /** The stock right after it: what a repeat of the key replays. */
  result: Stock;
}

export interface ModelState {
  now: number;
  defaultTtlMs: number;
  stock: readonly Stock[];
  reservations: ReadonlyMap<number, ModelReservation>;
  adjustments: ReadonlyMap<number, Adjustment>;
}

export function initialState(initialStock: readonly number[], now: number, defaultTtlMs: number): ModelState {
  return {
    now,
    defaultTtlMs,
    stock: initialStock.map((available) => ({ available, reserved: 0, sold: 0 })),
    reservations: new Map(),
    adjustments: new Map(),
  };
}

/** A mutable copy for one step; the state passed in is never changed. */
function draft(state: ModelState) {
  return {
    ...state,
    stock: state.stock.map((s) => ({ ...s })),
    reservations: new Map(state.reservations),
    adjustments: new Map(state.adjustments),
  };
}
type Draft = ReturnType<typeof draft>;

const refused = (code: Exclude<Code, 'OK'>): Answer => ({ code });
const sortLines = (items: readonly Line[]) => [...items].sort((a, b) => a.product - b.product);
const lineText = (items: readonly Line[]) => JSON.stringify(sortLines(items));
const sameLines = (a: readonly Line[], b: readonly Line[]) => lineText(a) === lineText(b);
const live = (r: ModelReservation, now: number) => r.status === 'RESERVED' && r.expiresAt > now;

/** Moves a RESERVED reservation's units to sold (commit) or back to available (release, expiry). */
function settle(s: Draft, order: number, status: Exclude<Status, 'RESERVED'>): ModelReservation {
  const reservation = s.reservations.get(order)!;
  for (const { product, quantity } of reservation.items) {
    const stock = s.stock[product]!;
    stock.reserved -= quantity;
    if (status === 'COMMITTED') stock.sold += quantity;
    else stock.available += quantity;
  }
  const settled = { ...reservation, status };
  s.reservations.set(order, settled);
  return settled;
}

/**
 * ReserveStock: a repeat of the order with the same items replays the
 * reservation as it now is (whatever its status); other items are
 * ALREADY_EXISTS; a new order takes every item or none (FAILED_PRECONDITION
 * when any is short, leaving the order id unused).
 */
function reserve(s: Draft, op: Extract<Op, { kind: 'reserve' }>): Answer {
  const existing = s.reservations.get(op.order);
  if (existing) return sameLines(existing.items, op.items) ? { code: 'OK', reservation: existing } : refused('ALREADY_EXISTS');
  if (op.items.some(({ product, quantity }) => s.stock[product]!.available < quantity)) return refused('FAILED_PRECONDITION');
  for (const { product, quantity } of op.items) {
    s.stock[product]!.available -= quantity;
    s.stock[product]!.reserved += quantity;
  }
  const ttlMs = op.ttlSeconds === undefined ? s.defaultTtlMs : op.ttlSeconds * 1000;
  const reservation: ModelReservation = { status: 'RESERVED', items: sortLines(op.items), expiresAt: s.now + ttlMs };
  s.reservations.set(op.order, reservation);
  return { code: 'OK', reservation };
}

/** CommitReservation: idempotent; refused once released or expired — also when its TTL passed but no sweep ran yet. */
function commit(s: Draft, order: number): Answer {
  const r = s.reservations.get(order);
  if (!r) return refused('NOT_FOUND');
  if (r.status === 'COMMITTED') return { code: 'OK', reservation: r };
  if (!live(r, s.now)) return refused('FAILED_PRECONDITION');
  return { code: 'OK', reservation: settle(s, order, 'COMMITTED') };
}

/** ReleaseReservation: idempotent, also after expiry (the reservation stays EXPIRED); refused once committed. */
function release(s: Draft, order: number): Answer {
  const r = s.reservations.get(order);
  if (!r) return refused('NOT_FOUND');
  if (r.status === 'RELEASED' || r.status === 'EXPIRED') return { code: 'OK', reservation: r };
  if (r.status === 'COMMITTED') return refused('FAILED_PRECONDITION');
  return { code: 'OK', reservation: settle(s, order, 'RELEASED') };
}

/** ExtendReservation: only a live reservation (RESERVED, TTL not passed) gets now + ttl. */
function extend(s: Draft, order: number, ttlSeconds: number): Answer {
  const r = s.reservations.get(order);
  if (!r) return refused('NOT_FOUND');
  if (!live(r, s.now)) return refused('FAILED_PRECONDITION');
  const extended = { ...r, expiresAt: s.now + ttlSeconds * 1000 };
  s.reservations.set(order, extended);
  return { code: 'OK', reservation: extended };
}

/**
 * AdjustStock: a repeat of the key with the same request replays the first
 * result, with another request is ALREADY_EXISTS; available never goes below
 * zero (FAILED_PRECONDITION, key left unused); reserved units are untouched.
 */
function adjust(s: Draft, op: Extract<Op, { kind: 'adjust' }>): Answer {
  const earlier = s.adjustments.get(op.key);
  if (earlier) {
    const same = earlier.product === op.product && earlier.delta === op.delta && earlier.reason === op.reason;
    return same ? { code: 'OK', stock: earlier.result } : refused('ALREADY_EXISTS');
  }
  const stock = s.stock[op.product]!;
  if (stock.available + op.delta < 0) return refused('FAILED_PRECONDITION');
  stock.available += op.delta;
  const result = { ...stock };
  s.adjustments.set(op.key, { product: op.product, delta: op.delta, reason: op.reason, result });
  return { code: 'OK', stock: result };
}

/** The expiry job: every RESERVED reservation whose TTL passed becomes EXPIRED; answers how many. */
function sweep(s: Draft): Answer {
  const due = [...s.reservations].filter(([, r]) => r.status === 'RESERVED' && r.expiresAt <= s.now);
  for (const [order] of due) settle(s, order, 'EXPIRED');
  return sweptAnswer(due.length);
}

export function step(state: ModelState, op: Op): { state: ModelState; answer: Answer } {
  const s = draft(state);
  const answer = (() => {
    switch (op.kind) {
      case 'reserve':
        return reserve(s, op);
      case 'commit':
        return commit(s, op.order);
      case 'release':
        return release(s, op.order);
      case 'extend':
        return extend(s, op.order, op.ttlSeconds);
      case 'adjust':
        return adjust(s, op);
      case 'sweep':
        return sweep(s);
      case 'tick':
        s.now += op.ms;
        return { code: 'OK' as const };
    }
  })();
  return { state: s, answer };
}

const sweptAnswer = (expired: number): Answer => ({ code: 'OK', expired });

/**
 * Two calls issued at once: the service must behave like one of the two serial
 * orders. Answers are given in the calls' order (first, second), whichever ran first.
 */
export function interleavings(state: ModelState, first: Op, second: Op): { state: ModelState; answers: [Answer, Answer] }[] {
  const a1 = step(state, first);
  if (first.kind === 'sweep' && second.kind === 'sweep') {
    // Concurrent sweepers (replicas) share the due reservations, each taking what the other has not locked.
    const total = a1.answer.expired!;
    return Array.from({ length: total + 1 }, (_, k) => ({ state: a1.state, answers: [sweptAnswer(k), sweptAnswer(total - k)] }));
  }
  const b1 = step(a1.state, second);
  const b2 = step(state, second);
  const a2 = step(b2.state, first);
  return [
    { state: b1.state, answers: [a1.answer, b1.answer] },
    { state: a2.state, answers: [a2.answer, b2.answer] },
  ];
}

/**
 * Text of an answer or state part, for equality and for failure messages;
 * times are shown relative to `origin` (the run's start).
 */
export function describeReservation(r: ModelReservation | undefined, origin = 0): string {
  if (!r) return 'none';
  const items = `${r.status} [${sortLines(r.items)
    .map((l) => `p${l.product}x${l.quantity}`)
    .join(' ')}]`;
  // expire_time means something only while RESERVED (resources.proto). A settle answers with the
  // expiry it read before its guarded update, which a concurrent extend may have moved since.
  return r.status === 'RESERVED' ? `${items} expires t+${r.expiresAt - origin}ms` : items;
}

export const describeStock = (s: Stock) => `available ${s.available} reserved ${s.reserved} sold ${s.sold}`;

export function describeAnswer(answer: Answer, origin = 0): string {
  const parts: string[] = [answer.code];
  if (answer.reservation) parts.push(describeReservation(answer.reservation, origin));
  if (answer.stock) parts.push(describeStock(answer.stock));
  if (answer.expired !== undefined) parts.push(`expired ${answer.expired}`);
  return parts.join(' ');
}

export function describeOp(op: Op): string {
  switch (op.kind) {
    case 'reserve': {
      const items = op.items.map((l) => `p${l.product}x${l.quantity}`).join(' ');
      return `reserve o${op.order} [${items}] ttl ${op.ttlSeconds === undefined ? 'default' : `${op.ttlSeconds}s`}`;
    }
    case 'commit':
    case 'release':
      return `${op.kind} o${op.order}`;
    case 'extend':
      return `extend o${op.order} ttl ${op.ttlSeconds}s`;
    case 'adjust':
      return `adjust k${op.key} p${op.product} ${op.reason} ${op.delta > 0 ? '+' : ''}${op.delta}`;
    case 'sweep':
      return 'sweep';
    case 'tick':
      return `tick ${op.ms}ms`;
  }
}

/** Stock of every product and the reservations of some orders (undefined: none), by order index. */
export interface StateView {
  stock: readonly Stock[];
  reservations: ReadonlyMap<number, ModelReservation | undefined>;
}

/** The state as text, for comparing the service's with the model's. */
export function describeState(state: StateView, origin: number): string {
  const stock = state.stock.map((s, p) => `p${p}: ${describeStock(s)}`);
  const reservations = [...state.reservations].sort(([a], [b]) => a - b).map(([o, r]) => `o${o}: ${describeReservation(r, origin)}`);
  return [...stock, ...reservations].join('\n');
}

/** The model's reservations of the given orders. */
export const reservationsOf = (state: ModelState, orders: readonly number[]) => new Map(orders.map((o) => [o, state.reservations.get(o)]));

/** Equal for equal states (to drop duplicate candidates after a pair). */
export function stateKey(state: ModelState): string {
  const byIndex = <T>(map: ReadonlyMap<number, T>) => [...map].sort(([a], [b]) => a - b);
  return JSON.stringify([state.now, state.stock, byIndex(state.reservations), byIndex(state.adjustments)]);
}
