import { appendFileSync } from 'node:fs';
import type { PaymentGateway } from '../domain/payment-port.js';

/** One line of the gateway call log: a call as it leaves, or what it came back with. */
export interface GatewayCallEntry {
  /** Milliseconds since the epoch, when the line was written. */
  at: number;
  pid: number;
  op: 'charge' | 'lookup' | 'refund';
  orderId: string;
  /** `call` is written before the gateway is asked; `return` (or `throw`) when it answered. */
  phase: 'call' | 'return' | 'throw';
  /** The answer's kind (`captured`, `unknown`, `none`, `refunded`, …) on `return`; the message on `throw`. */
  result?: string;
}

/**
 * Wraps a gateway so that every charge, lookup and refund is logged, in order,
 * at the boundary: what the saga asked, not what the provider kept. The `call`
 * line is written synchronously before the request goes out, so a process
 * killed mid-charge still leaves the charge it started on record.
 */
export function recordingGateway(inner: PaymentGateway, write: (entry: GatewayCallEntry) => void): PaymentGateway {
  async function recorded<T>(
    op: GatewayCallEntry['op'],
    orderId: string,
    call: () => Promise<T>,
    kindOf: (answer: T) => string,
  ): Promise<T> {
    const note = (phase: GatewayCallEntry['phase'], result?: string) =>
      write({ at: Date.now(), pid: process.pid, op, orderId, phase, result });
    note('call');
    let answer: T;
    try {
      answer = await call();
    } catch (error) {
      note('throw', error instanceof Error ? error.message : String(error));
      throw error;
    }
    note('return', kindOf(answer));
    return answer;
  }
  const kind = (answer: { kind: string }) => answer.kind;
  return {
    charge: (request, timeoutMs) => recorded('charge', request.orderId, () => inner.charge(request, timeoutMs), kind),
    lookup: (orderId) =>
      recorded(
        'lookup',
        orderId,
        () => inner.lookup(orderId),
        (record) => record.status,
      ),
    refund: (orderId) => recorded('refund', orderId, () => inner.refund(orderId), kind),
  };
}

/**
 * Appends entries as JSON lines to a file (PAYMENT_CALL_LOG). Synchronous on
 * purpose: O_APPEND writes of one short line land whole and in order, also
 * from several replicas sharing the file, and survive a SIGKILL right after.
 */
export function jsonLinesWriter(path: string): (entry: GatewayCallEntry) => void {
  return (entry) => appendFileSync(path, `${JSON.stringify(entry)}\n`);
}
