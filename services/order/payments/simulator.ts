/**
 * The payment simulator: the `PaymentGateway` Larder ships with. It keeps its
 * own books in the `simulated_charges` table (one row per order id), the way a
 * real provider keeps charges on its side.
 *
 * Test tokens (exact, immediate: no simulated latency, no random draws):
 *
 *   tok_ok           always captures.
 *   tok_decline      always declines ("card declined"); the decline is recorded.
 *   tok_unavailable  always answers "unavailable": nothing charged, nothing recorded.
 *   tok_timeout      records the capture but never answers in time: the call
 *                    waits the caller's timeoutMs and returns "unknown"; a later
 *                    lookup() finds the order captured, and a repeated charge()
 *                    returns that capture (it never charges twice).
 *
 * Any other non-empty token is random, one draw of `random()` per knob, checked
 * in this order: timeout (as tok_timeout), unavailable, decline, else capture.
 * It answers after `latencyMs`; if latencyMs >= the caller's timeoutMs it
 * answers "unknown" after timeoutMs instead (having still recorded whatever it
 * did, so lookup() tells the truth).
 *
 * Knobs (env vars, see services/order/config.ts):
 *
 *   PAYMENT_LATENCY_MS        latencyMs        simulated latency of a random-token charge (default 50)
 *   PAYMENT_TIMEOUT_RATE      timeoutRate      share of random-token charges that capture but time out
 *   PAYMENT_UNAVAILABLE_RATE  unavailableRate  share answering "unavailable" (nothing charged)
 *   PAYMENT_DECLINE_RATE      declineRate      share declined
 *
 * Idempotency: once an order has a recorded charge, every charge() for it
 * (whatever the token or the dice say) answers from the record, after the
 * call's latency: captured → captured with the same chargeId; declined →
 * declined; refunded → declined ("already refunded"). The record is claimed
 * with INSERT … ON CONFLICT (order_id) DO NOTHING, so concurrent charges of one
 * order capture once. refund() flips captured → refunded with a conditional
 * UPDATE, so concurrent refunds refund once; lookup() and refund() answer
 * immediately. The charge id is `ch_` + the order id without dashes.
 *
 * Requests that are not well-formed (empty token, amount not a non-negative
 * integer of minor units, currency not three capital letters) are declined
 * without being recorded; an order id that is not a UUID throws. A database
 * error while charging answers "unknown" (the insert may have committed); in
 * lookup() and refund() it answers "unavailable".
 */
import type { Knex } from 'knex';
import { isUuid } from '#libs/ids/uuid.js';
import type { Clock } from '#libs/timers/clock.js';
import type { Money } from '#libs/money/money.js';
import type { Random } from '../domain/types.js';
import type { ChargeOutcome, ChargeRecord, PaymentGateway } from '../domain/payment-port.js';

export const SIMULATOR_TEST_TOKENS = {
  ok: 'tok_ok',
  decline: 'tok_decline',
  unavailable: 'tok_unavailable',
  timeout: 'tok_timeout',
} as const;

export interface PaymentSimulatorOptions {
  db: Knex;
  clock: Clock;
  random: Random;
  /** Simulated latency of a charge with a random (non-test) token. */
  latencyMs: number;
  declineRate: number;
  unavailableRate: number;
  timeoutRate: number;
  /** How the simulator waits (default: a real timer); tests inject a fake. */
  sleep?: (ms: number) => Promise<void>;
}

type Fate = 'capture' | 'decline' | 'unavailable' | 'timeout';

type StoredStatus = 'captured' | 'declined' | 'refunded';

interface ChargeRow {
  order_id: string;
  status: StoredStatus;
}

const TABLE = 'simulated_charges';
const DECLINED = 'card declined';

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createPaymentSimulator(options: PaymentSimulatorOptions): PaymentGateway {
  const { db, clock, random } = options;
  const sleep = options.sleep ?? realSleep;
  if (!Number.isFinite(options.latencyMs) || options.latencyMs < 0)
    throw new RangeError(`latencyMs must be >= 0, got ${options.latencyMs}`);
  for (const knob of ['declineRate', 'unavailableRate', 'timeoutRate'] as const) {
    const rate = options[knob];
    if (!(rate >= 0 && rate <= 1)) throw new RangeError(`${knob} must be within [0, 1], got ${rate}`);
  }

  function decide(token: string): { fate: Fate; latencyMs: number } {
    switch (token) {
      case SIMULATOR_TEST_TOKENS.ok:
        return { fate: 'capture', latencyMs: 0 };
      case SIMULATOR_TEST_TOKENS.decline:
        return { fate: 'decline', latencyMs: 0 };
      case SIMULATOR_TEST_TOKENS.unavailable:
        return { fate: 'unavailable', latencyMs: 0 };
      case SIMULATOR_TEST_TOKENS.timeout:
        return { fate: 'timeout', latencyMs: 0 };
    }
    const latencyMs = options.latencyMs;
    if (random() < options.timeoutRate) return { fate: 'timeout', latencyMs };
    if (random() < options.unavailableRate) return { fate: 'unavailable', latencyMs };
    if (random() < options.declineRate) return { fate: 'decline', latencyMs };
    return { fate: 'capture', latencyMs };
  }

  async function findRow(orderId: string): Promise<ChargeRow | undefined> {
    return db<ChargeRow>(TABLE).where({ order_id: orderId }).first('order_id', 'status');
  }

  /** Claims the order's record; false when one already exists. */
  async function record(request: { orderId: string; amount: Money; token: string }, status: StoredStatus): Promise<boolean> {
    const rows = await db(TABLE)
      .insert({
        order_id: request.orderId,
        amount_minor: request.amount.minorUnits,
        currency_code: request.amount.currencyCode,
        token: request.token,
        status,
        created_at: clock.now(),
      })
      .onConflict('order_id')
      .ignore()
      .returning('order_id');
    return rows.length === 1;
  }

  /** What a repeated charge answers for an order that already has a record. */
  function replay(row: ChargeRow): ChargeOutcome {
    switch (row.status) {
      case 'captured':
        return { kind: 'captured', chargeId: chargeIdOf(row.order_id) };
      case 'declined':
        return { kind: 'declined', reason: DECLINED };
      case 'refunded':
        return { kind: 'declined', reason: 'already refunded' };
      default:
        throw new Error(`simulated_charges: unexpected status ${JSON.stringify(row.status)} for order ${row.order_id}`);
    }
  }

  /** Does the work of a charge; `timedOut` when the answer never makes it back in time. */
  async function settle(
    request: { orderId: string; amount: Money; token: string },
    fate: Fate,
  ): Promise<{ outcome: ChargeOutcome; timedOut: boolean }> {
    if (fate === 'unavailable') {
      // Never a fresh "unavailable" for an order that was charged already: it would read as "nothing was charged".
      const existing = await findRow(request.orderId);
      return { outcome: existing ? replay(existing) : { kind: 'unavailable', reason: 'payment gateway unavailable' }, timedOut: false };
    }
    const status: StoredStatus = fate === 'decline' ? 'declined' : 'captured';
    if (await record(request, status)) {
      const outcome: ChargeOutcome =
        status === 'captured' ? { kind: 'captured', chargeId: chargeIdOf(request.orderId) } : { kind: 'declined', reason: DECLINED };
      return { outcome, timedOut: fate === 'timeout' };
    }
    const existing = await findRow(request.orderId);
    if (!existing) throw new Error(`simulated_charges: the record of order ${request.orderId} vanished`);
    return { outcome: replay(existing), timedOut: false };
  }

  return {
    async charge(request, timeoutMs) {
      assertOrderId(request.orderId);
      const invalid = invalidRequest(request);
      if (invalid) return { kind: 'declined', reason: invalid };
      const { fate, latencyMs } = decide(request.token);
      let result: { outcome: ChargeOutcome; timedOut: boolean };
      try {
        result = await settle(request, fate);
      } catch (error) {
        return { kind: 'unknown', reason: `payment gateway failed: ${messageOf(error)}` };
      }
      if (result.timedOut || (latencyMs > 0 && latencyMs >= timeoutMs)) {
        await sleep(timeoutMs);
        return { kind: 'unknown', reason: `payment gateway did not answer within ${timeoutMs} ms` };
      }
      if (latencyMs > 0) await sleep(latencyMs);
      return result.outcome;
    },

    async lookup(orderId) {
      assertOrderId(orderId);
      let row: ChargeRow | undefined;
      try {
        row = await findRow(orderId);
      } catch {
        return { status: 'unavailable' };
      }
      if (!row) return { status: 'none' };
      const record: ChargeRecord =
        row.status === 'captured' ? { status: 'captured', chargeId: chargeIdOf(row.order_id) } : { status: row.status };
      return record;
    },

    async refund(orderId) {
      assertOrderId(orderId);
      try {
        const rows = await db(TABLE)
          .update({ status: 'refunded', refunded_at: clock.now() })
          .where({ order_id: orderId, status: 'captured' })
          .returning('order_id');
        return { kind: rows.length === 1 ? 'refunded' : 'nothing_to_refund' };
      } catch (error) {
        return { kind: 'unavailable', reason: `payment gateway failed: ${messageOf(error)}` };
      }
    },
  };
}

/** The simulator's charge id for an order (derived, not stored). */
function chargeIdOf(orderId: string): string {
  return `ch_${orderId.toLowerCase().replace(/-/g, '')}`;
}

function assertOrderId(orderId: string): void {
  if (!isUuid(orderId)) throw new TypeError(`payment simulator: order id must be a UUID, got ${JSON.stringify(orderId)}`);
}

function invalidRequest(request: { amount: Money; token: string }): string | undefined {
  if (request.token.length === 0) return 'missing payment token';
  const { minorUnits, currencyCode } = request.amount;
  if (!Number.isSafeInteger(minorUnits) || minorUnits < 0) return `invalid amount ${minorUnits}`;
  if (!/^[A-Z]{3}$/.test(currencyCode)) return `invalid currency ${JSON.stringify(currencyCode)}`;
  return undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
