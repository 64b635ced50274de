import { existsSync, readFileSync } from 'node:fs';
import type { GatewayCallEntry } from '../payments/recording-gateway.js';

/** Every gateway call the order processes made, in the order they wrote them (PAYMENT_CALL_LOG). */
export function readGatewayLog(path: string): GatewayCallEntry[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as GatewayCallEntry);
}

/** One order's calls as `op:result` (`charge:captured`, `lookup:none`, …); a call that never answered reads `charge:…`. */
export function callsOf(log: readonly GatewayCallEntry[], orderId: string): string[] {
  const open = new Map<string, number>();
  const calls: string[] = [];
  for (const entry of log) {
    if (entry.orderId !== orderId) continue;
    const key = `${entry.pid}:${entry.op}`;
    if (entry.phase === 'call') {
      open.set(key, calls.length);
      calls.push(`${entry.op}:…`);
    } else {
      const at = open.get(key);
      if (at !== undefined) calls[at] = `${entry.op}:${entry.phase === 'throw' ? 'threw' : entry.result}`;
      open.delete(key);
    }
  }
  return calls;
}

/** Where an order's money stands, as far as the saga could know from the gateway's answers. */
type MoneyState = 'nothing' | 'maybe' | 'captured' | 'declined' | 'refunded';

/**
 * The saga's payment discipline, checked from the calls alone (never from the
 * provider's books, whose own idempotency would hide a second charge):
 * - a charge only when nothing may have been taken: not while another charge
 *   is unanswered, not after one came back unknown (or never came back)
 *   unless a lookup said `none` since, never after a capture or a refund;
 * - no charge after a decline;
 * - at most one successful refund per order, and no refund asked after it.
 * Returns one line per breach, naming the order.
 */
export function paymentViolations(log: readonly GatewayCallEntry[]): string[] {
  const state = new Map<string, MoneyState>();
  const refunds = new Map<string, number>();
  const violations: string[] = [];
  for (const entry of log) {
    const { orderId } = entry;
    const now = state.get(orderId) ?? 'nothing';
    if (entry.op === 'charge') {
      if (entry.phase === 'call') {
        if (now === 'declined') violations.push(`order ${orderId}: charged after a decline`);
        else if (now !== 'nothing') violations.push(`order ${orderId}: charged again while the money stood ${now}`);
        state.set(orderId, 'maybe');
      } else {
        state.set(orderId, chargeAnswer(entry));
      }
    } else if (entry.op === 'lookup' && entry.phase === 'return') {
      const known = lookupAnswer(entry.result);
      if (known) state.set(orderId, known);
    } else if (entry.op === 'refund') {
      if (entry.phase === 'call' && (refunds.get(orderId) ?? 0) > 0)
        violations.push(`order ${orderId}: refund asked after it was refunded`);
      if (entry.phase === 'return' && entry.result === 'refunded') {
        refunds.set(orderId, (refunds.get(orderId) ?? 0) + 1);
        state.set(orderId, 'refunded');
      }
    }
  }
  return violations;
}

function chargeAnswer(entry: GatewayCallEntry): MoneyState {
  if (entry.phase === 'throw') return 'maybe';
  switch (entry.result) {
    case 'captured':
      return 'captured';
    case 'declined':
      return 'declined';
    case 'unavailable':
      return 'nothing';
    default:
      return 'maybe';
  }
}

function lookupAnswer(result: string | undefined): MoneyState | undefined {
  switch (result) {
    case 'none':
      return 'nothing';
    case 'captured':
    case 'declined':
    case 'refunded':
      return result;
    default:
      return undefined; // unavailable: nothing learnt
  }
}

/** Orders with a charge call that has not (yet) come back: a charge in flight, or cut off by a crash. */
export function unansweredCharges(log: readonly GatewayCallEntry[]): string[] {
  const orders = [...new Set(log.map((entry) => entry.orderId))];
  return orders.filter((orderId) => callsOf(log, orderId).includes('charge:…'));
}
