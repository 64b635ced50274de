import type { Money } from '#libs/money/money.js';

/** What a charge attempt came to. */
export type ChargeOutcome =
  | { kind: 'captured'; chargeId: string }
  | { kind: 'declined'; reason: string }
  /** The gateway said it cannot process now: nothing was charged; retry later. */
  | { kind: 'unavailable'; reason: string }
  /** No answer in time: the charge may or may not have happened. Resolve with lookup(). */
  | { kind: 'unknown'; reason: string };

/** What the gateway knows of an order's charge. */
export type ChargeRecord = { status: 'captured'; chargeId: string } | { status: 'declined' } | { status: 'refunded' } | { status: 'none' };

/**
 * A payment provider. Every operation is idempotent on the order id: charging
 * an order twice returns the first charge's outcome and never takes money
 * twice; refunding twice refunds once. A port, as inventory-port.ts is: the
 * adapters live in payments/ (the simulator, the recording wrapper) as the
 * inventory's lives in inventory/.
 */
export interface PaymentGateway {
  charge(request: { orderId: string; amount: Money; token: string }, timeoutMs: number): Promise<ChargeOutcome>;
  lookup(orderId: string): Promise<ChargeRecord | { status: 'unavailable' }>;
  refund(orderId: string): Promise<{ kind: 'refunded' | 'nothing_to_refund' } | { kind: 'unavailable'; reason: string }>;
}
