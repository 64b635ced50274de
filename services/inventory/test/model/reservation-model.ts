/**
 * A reference model of the inventory's reservation state machine, written from
 * the contract (proto/larder/inventory/v1/inventory_service.proto, docs/design.md
 * §2 and §8, docs/routing.md), not from the service's code: pure TypeScript over
 * small integer indexes (product 0, location 2, order 1, idempotency key 0, …)
 * that the model test maps to the run's real ids. Stock is per (product,
 * location) over the fixed locations of MODEL_LOCATIONS, and a reservation is
 * routed over them as routing.md says. step() answers what the service must answer for one call —
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
  /** Units this location sent by transfers that are not received yet. */
  inTransit: number;
}

export type TransferStatus = 'IN_TRANSIT' | 'RECEIVED' | 'CANCELLED';

/** A one-line transfer of the model: `lost` is set once received (units that did not arrive). */
export interface ModelTransfer {
  from: number;
  to: number;
  product: number;
  quantity: number;
  status: TransferStatus;
  lost?: number;
}

/** Units of a product held at a location. */
export interface AllocationLine {
  product: number;
  location: number;
  quantity: number;
}

export interface ModelReservation {
  status: Status;
  /** Sorted by product index. */
  items: readonly Line[];
  /** Sorted by product, then location index. */
  allocations: readonly AllocationLine[];
  /** Epoch milliseconds. */
  expiresAt: number;
}

/**
 * The model's locations, as the test creates them: 0 is the default location
 * (no coordinates, no area: delivers everywhere), 1 and 2 dark stores that
 * deliver to postal codes starting with "1" and "2", each near its own
 * destination. Codes sort: "default" < "model-a" < "model-b".
 */
export const MODEL_LOCATIONS = [
  { code: 'default', priority: 0, prefix: undefined, distanceTo: [undefined, undefined] },
  { code: 'model-a', priority: 0, prefix: '1', distanceTo: [1, 9] },
  { code: 'model-b', priority: 5, prefix: '2', distanceTo: [9, 1] },
] as const;
export const LOCATIONS = MODEL_LOCATIONS.length;

/** Where a reservation may come from: nowhere said, one location, or a destination (0: in "1…", 1: in "2…") and a policy. */
export type Routing =
  | { kind: 'none' }
  | { kind: 'pinned'; location: number }
  | { kind: 'destination'; destination: 0 | 1; policy: 'SINGLE_LOCATION' | 'SPLIT_ALLOWED' };

/** The candidates in the order routing tries them (docs/routing.md): served, nearest, priority, code. */
export function candidatesOf(routing: Routing): number[] {
  if (routing.kind === 'pinned') return [routing.location];
  const all = MODEL_LOCATIONS.map((_, index) => index);
  const byPriorityThenCode = (a: number, b: number) =>
    MODEL_LOCATIONS[b]!.priority - MODEL_LOCATIONS[a]!.priority || (MODEL_LOCATIONS[a]!.code < MODEL_LOCATIONS[b]!.code ? -1 : 1);
  if (routing.kind === 'none') return all.sort(byPriorityThenCode);
  const d = routing.destination;
  const serves = (l: number) => MODEL_LOCATIONS[l]!.prefix === undefined || MODEL_LOCATIONS[l]!.prefix === String(d + 1);
  const distance = (l: number) => MODEL_LOCATIONS[l]!.distanceTo[d] ?? Number.POSITIVE_INFINITY;
  return all.filter(serves).sort((a, b) => (distance(a) !== distance(b) ? distance(a) - distance(b) : byPriorityThenCode(a, b)));
}

/** One call to the service (sweep: the expiry job once; tick: time passes, no call). */
export type Op =
  | { kind: 'reserve'; order: number; items: readonly Line[]; ttlSeconds?: number; routing: Routing }
  | { kind: 'commit'; order: number }
  | { kind: 'release'; order: number }
  | { kind: 'extend'; order: number; ttlSeconds: number }
  | { kind: 'adjust'; key: number; product: number; location: number; delta: number; reason: AdjustReason }
  | { kind: 'sweep' }
  | { kind: 'tick'; ms: number }
  /** CreateTransfer of one line under transfer key `transfer`; ReceiveTransfer with `lost` units short (LOST); CancelTransfer. */
  | { kind: 'send'; transfer: number; product: number; from: number; to: number; quantity: number }
  | { kind: 'receive'; transfer: number; lost: number }
  | { kind: 'cancelTransfer'; transfer: number };

/** What a call answers: its code and, when OK, what it returns. */
export interface Answer {
  /** A gRPC status name: one of Code from the model, whatever the service sent from the service. */
  code: string;
  reservation?: ModelReservation;
  transfer?: ModelTransfer;
  stock?: Stock;
  expired?: number;
}

interface Adjustment {
  product: number;
  location: number;
  delta: number;
  reason: AdjustReason;
  /** The stock right after it: what a repeat of the key replays. */
  result: Stock;
}

export interface ModelState {
  now: number;
  defaultTtlMs: number;
  /** By product, then location. */
  stock: readonly (readonly Stock[])[];
  reservations: ReadonlyMap<number, ModelReservation>;
  /** The routing input each reservation was made with (a repeat must match it). */
  routings: ReadonlyMap<number, Routing>;
  /** Transfers by their key index. */
  transfers: ReadonlyMap<number, ModelTransfer>;
  adjustments: ReadonlyMap<number, Adjustment>;
}

/** initialStock: by product, then location. */
export function initialState(initialStock: readonly (readonly number[])[], now: number, defaultTtlMs: number): ModelState {
  return {
    now,
    defaultTtlMs,
    stock: initialStock.map((places) => places.map((available) => ({ available, reserved: 0, sold: 0, inTransit: 0 }))),
    reservations: new Map(),
    routings: new Map(),
    transfers: new Map(),
    adjustments: new Map(),
  };
}

/** A mutable copy for one step; the state passed in is never changed. */
function draft(state: ModelState) {
  return {
    ...state,
    stock: state.stock.map((places) => places.map((s) => ({ ...s }))),
    reservations: new Map(state.reservations),
    routings: new Map(state.routings),
    transfers: new Map(state.transfers),
    adjustments: new Map(state.adjustments),
  };
}
type Draft = ReturnType<typeof draft>;

const refused = (code: Exclude<Code, 'OK'>): Answer => ({ code });
const sortLines = (items: readonly Line[]) => [...items].sort((a, b) => a.product - b.product);
const lineText = (items: readonly Line[]) => JSON.stringify(sortLines(items));
const sameLines = (a: readonly Line[], b: readonly Line[]) => lineText(a) === lineText(b);
const live = (r: ModelReservation, now: number) => r.status === 'RESERVED' && r.expiresAt > now;

/** Moves a RESERVED reservation's units, per allocation line, to sold (commit) or back to available (release, expiry). */
function settle(s: Draft, order: number, status: Exclude<Status, 'RESERVED'>): ModelReservation {
  const reservation = s.reservations.get(order)!;
  for (const { product, location, quantity } of reservation.allocations) {
    const stock = s.stock[product]![location]!;
    stock.reserved -= quantity;
    if (status === 'COMMITTED') stock.sold += quantity;
    else stock.available += quantity;
  }
  const settled = { ...reservation, status };
  s.reservations.set(order, settled);
  return settled;
}

const sameRouting = (a: Routing, b: Routing) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The allocation docs/routing.md describes, or undefined when none fills every
 * item: single location, the first candidate with every item; split allowed,
 * that too when one has, else greedily the candidate that fills the most
 * remaining items whole, and the items none has whole split over the chosen
 * locations first, then the others, in rank order.
 */
function allocate(stock: Draft['stock'], items: readonly Line[], routing: Routing): AllocationLine[] | undefined {
  const candidates = candidatesOf(routing);
  const has = (l: Line, location: number) => stock[l.product]![location]!.available >= l.quantity;
  const single = candidates.find((location) => items.every((l) => has(l, location)));
  if (single !== undefined) return items.map((l) => ({ product: l.product, location: single, quantity: l.quantity }));
  const split = routing.kind === 'none' || (routing.kind === 'destination' && routing.policy === 'SPLIT_ALLOWED');
  if (!split) return undefined;
  const whole = new Map<number, number>();
  const chosen: number[] = [];
  for (;;) {
    let best: number | undefined;
    let bestCount = 0;
    for (const location of candidates) {
      const count = items.filter((l) => !whole.has(l.product) && has(l, location)).length;
      if (count > bestCount) [best, bestCount] = [location, count];
    }
    if (best === undefined) break;
    chosen.push(best);
    for (const l of items) if (!whole.has(l.product) && has(l, best)) whole.set(l.product, best);
  }
  const order = [...chosen, ...candidates.filter((c) => !chosen.includes(c))];
  const lines: AllocationLine[] = [];
  for (const l of items) {
    if (whole.has(l.product)) {
      lines.push({ product: l.product, location: whole.get(l.product)!, quantity: l.quantity });
      continue;
    }
    let remaining = l.quantity;
    for (const location of order) {
      const take = Math.min(stock[l.product]![location]!.available, remaining);
      if (take > 0) lines.push({ product: l.product, location, quantity: take });
      remaining -= take;
    }
    if (remaining > 0) return undefined;
  }
  return lines;
}

const sortAllocations = (lines: readonly AllocationLine[]) => [...lines].sort((a, b) => a.product - b.product || a.location - b.location);

/**
 * ReserveStock: a repeat of the order with the same items and routing replays
 * the reservation as it now is (whatever its status); another request is
 * ALREADY_EXISTS; a new order takes every item or none (FAILED_PRECONDITION
 * when no allocation fills it, leaving the order id unused).
 */
function reserve(s: Draft, op: Extract<Op, { kind: 'reserve' }>): Answer {
  const existing = s.reservations.get(op.order);
  if (existing) {
    const same = sameLines(existing.items, op.items) && sameRouting(s.routings.get(op.order)!, op.routing);
    return same ? { code: 'OK', reservation: existing } : refused('ALREADY_EXISTS');
  }
  const lines = allocate(s.stock, op.items, op.routing);
  if (!lines) return refused('FAILED_PRECONDITION');
  for (const { product, location, quantity } of lines) {
    s.stock[product]![location]!.available -= quantity;
    s.stock[product]![location]!.reserved += quantity;
  }
  const ttlMs = op.ttlSeconds === undefined ? s.defaultTtlMs : op.ttlSeconds * 1000;
  const reservation: ModelReservation = {
    status: 'RESERVED',
    items: sortLines(op.items),
    allocations: sortAllocations(lines),
    expiresAt: s.now + ttlMs,
  };
  s.reservations.set(op.order, reservation);
  s.routings.set(op.order, op.routing);
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
    const same =
      earlier.product === op.product && earlier.location === op.location && earlier.delta === op.delta && earlier.reason === op.reason;
    return same ? { code: 'OK', stock: earlier.result } : refused('ALREADY_EXISTS');
  }
  const stock = s.stock[op.product]![op.location]!;
  if (stock.available + op.delta < 0) return refused('FAILED_PRECONDITION');
  stock.available += op.delta;
  const result = { ...stock };
  s.adjustments.set(op.key, { product: op.product, location: op.location, delta: op.delta, reason: op.reason, result });
  return { code: 'OK', stock: result };
}

/**
 * CreateTransfer (docs/transfers.md): a repeat of the key with the same request
 * replays the transfer as it now is, with another request is ALREADY_EXISTS;
 * the sender needs the units unreserved (FAILED_PRECONDITION, key left unused);
 * they leave its available for its in transit at once.
 */
function send(s: Draft, op: Extract<Op, { kind: 'send' }>): Answer {
  const earlier = s.transfers.get(op.transfer);
  if (earlier) {
    const same = earlier.from === op.from && earlier.to === op.to && earlier.product === op.product && earlier.quantity === op.quantity;
    return same ? { code: 'OK', transfer: earlier } : refused('ALREADY_EXISTS');
  }
  const sender = s.stock[op.product]![op.from]!;
  if (sender.available < op.quantity) return refused('FAILED_PRECONDITION');
  sender.available -= op.quantity;
  sender.inTransit += op.quantity;
  const transfer: ModelTransfer = { from: op.from, to: op.to, product: op.product, quantity: op.quantity, status: 'IN_TRANSIT' };
  s.transfers.set(op.transfer, transfer);
  return { code: 'OK', transfer };
}

/** ReceiveTransfer: lands what arrived at the receiver, the rest a loss; the same receipt again replays, another is refused. */
function receive(s: Draft, op: Extract<Op, { kind: 'receive' }>): Answer {
  const t = s.transfers.get(op.transfer);
  if (!t) return refused('NOT_FOUND');
  const lost = Math.min(op.lost, t.quantity);
  if (t.status === 'RECEIVED') return t.lost === lost ? { code: 'OK', transfer: t } : refused('FAILED_PRECONDITION');
  if (t.status === 'CANCELLED') return refused('FAILED_PRECONDITION');
  s.stock[t.product]![t.from]!.inTransit -= t.quantity;
  s.stock[t.product]![t.to]!.available += t.quantity - lost;
  const received = { ...t, status: 'RECEIVED' as const, lost };
  s.transfers.set(op.transfer, received);
  return { code: 'OK', transfer: received };
}

/** CancelTransfer: the units go back to the sender; again is harmless; refused once received. */
function cancelTransfer(s: Draft, op: Extract<Op, { kind: 'cancelTransfer' }>): Answer {
  const t = s.transfers.get(op.transfer);
  if (!t) return refused('NOT_FOUND');
  if (t.status === 'CANCELLED') return { code: 'OK', transfer: t };
  if (t.status === 'RECEIVED') return refused('FAILED_PRECONDITION');
  s.stock[t.product]![t.from]!.inTransit -= t.quantity;
  s.stock[t.product]![t.from]!.available += t.quantity;
  const cancelled = { ...t, status: 'CANCELLED' as const };
  s.transfers.set(op.transfer, cancelled);
  return { code: 'OK', transfer: cancelled };
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
      case 'send':
        return send(s, op);
      case 'receive':
        return receive(s, op);
      case 'cancelTransfer':
        return cancelTransfer(s, op);
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
    .join(' ')}] at [${sortAllocations(r.allocations)
    .map((a) => `p${a.product}@l${a.location}x${a.quantity}`)
    .join(' ')}]`;
  // expire_time means something only while RESERVED (resources.proto). A settle answers with the
  // expiry it read before its guarded update, which a concurrent extend may have moved since.
  return r.status === 'RESERVED' ? `${items} expires t+${r.expiresAt - origin}ms` : items;
}

export const describeStock = (s: Stock) => `available ${s.available} reserved ${s.reserved} sold ${s.sold} in transit ${s.inTransit}`;

const describeTransfer = (t: ModelTransfer) =>
  `${t.status} p${t.product}x${t.quantity} l${t.from}->l${t.to}${t.lost === undefined ? '' : ` lost ${t.lost}`}`;

export function describeAnswer(answer: Answer, origin = 0): string {
  const parts: string[] = [answer.code];
  if (answer.reservation) parts.push(describeReservation(answer.reservation, origin));
  if (answer.stock) parts.push(describeStock(answer.stock));
  if (answer.transfer) parts.push(describeTransfer(answer.transfer));
  if (answer.expired !== undefined) parts.push(`expired ${answer.expired}`);
  return parts.join(' ');
}

export function describeOp(op: Op): string {
  switch (op.kind) {
    case 'reserve': {
      const items = op.items.map((l) => `p${l.product}x${l.quantity}`).join(' ');
      const ttl = op.ttlSeconds === undefined ? 'default' : `${op.ttlSeconds}s`;
      return `reserve o${op.order} [${items}] ttl ${ttl} ${describeRouting(op.routing)}`;
    }
    case 'commit':
    case 'release':
      return `${op.kind} o${op.order}`;
    case 'extend':
      return `extend o${op.order} ttl ${op.ttlSeconds}s`;
    case 'adjust':
      return `adjust k${op.key} p${op.product}@l${op.location} ${op.reason} ${op.delta > 0 ? '+' : ''}${op.delta}`;
    case 'sweep':
      return 'sweep';
    case 'tick':
      return `tick ${op.ms}ms`;
    case 'send':
      return `send t${op.transfer} p${op.product}x${op.quantity} l${op.from}->l${op.to}`;
    case 'receive':
      return `receive t${op.transfer} lost ${op.lost}`;
    case 'cancelTransfer':
      return `cancel t${op.transfer}`;
  }
}

function describeRouting(routing: Routing): string {
  if (routing.kind === 'none') return 'anywhere';
  if (routing.kind === 'pinned') return `at l${routing.location}`;
  return `to d${routing.destination} ${routing.policy}`;
}

/** Stock of every product at every location and the reservations of some orders (undefined: none), by order index. */
export interface StateView {
  stock: readonly (readonly Stock[])[];
  reservations: ReadonlyMap<number, ModelReservation | undefined>;
}

/** The state as text, for comparing the service's with the model's. */
export function describeState(state: StateView, origin: number): string {
  const stock = state.stock.flatMap((places, p) => places.map((s, l) => `p${p}@l${l}: ${describeStock(s)}`));
  const reservations = [...state.reservations].sort(([a], [b]) => a - b).map(([o, r]) => `o${o}: ${describeReservation(r, origin)}`);
  return [...stock, ...reservations].join('\n');
}

/** The model's reservations of the given orders. */
export const reservationsOf = (state: ModelState, orders: readonly number[]) => new Map(orders.map((o) => [o, state.reservations.get(o)]));

/** Equal for equal states (to drop duplicate candidates after a pair). */
export function stateKey(state: ModelState): string {
  const byIndex = <T>(map: ReadonlyMap<number, T>) => [...map].sort(([a], [b]) => a - b);
  return JSON.stringify([
    state.now,
    state.stock,
    byIndex(state.reservations),
    byIndex(state.routings),
    byIndex(state.adjustments),
    byIndex(state.transfers),
  ]);
}
