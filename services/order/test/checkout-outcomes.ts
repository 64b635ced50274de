import { expect } from 'chai';
import type { Product } from '#libs/contracts/larder/inventory/v1/resources.js';
import { paymentViolations } from './gateway-log.js';
import { inventoryViolations, repeatedTransitions, stockOf, type TestSystem } from './system.js';

/**
 * What the tests that break something under checkouts (crash points, a
 * database failover) assert once the system has converged: one order per key,
 * each ending as its card says with one capture at most, stock exact.
 */

/** One buyer's order: its idempotency key, its card and its items. */
export interface Plan {
  key: string;
  customerId: string;
  token: 'tok_pay' | 'tok_decline';
  items: { productId: string; quantity: number }[];
}

/** CreateOrder for a plan, with a deadline (5 s by default). */
export const createOrderOf = (system: TestSystem, plan: Plan, timeoutMs = 5_000) =>
  system.orders.createOrder(
    { customerId: plan.customerId, idempotencyKey: plan.key, paymentToken: plan.token, items: plan.items },
    { timeoutMs },
  );

/** The one order each key was answered with (a key answered with two orders fails), in plan order. */
export function answeredIds(plans: readonly Plan[], answers: Map<string, string[]>): string[] {
  return plans.map((plan) => {
    const seen = new Set(answers.get(plan.key));
    expect(seen.size, `orders answered for ${plan.key}`).to.equal(1);
    return [...seen][0]!;
  });
}

/**
 * A repeat of each key answers its order `ids[i]`; each ends as its token
 * says — paid → CONFIRMED with exactly one capture, declined → CANCELLED with
 * none; the gateway saw no second charge; no status was entered twice.
 */
export async function expectEachOrderOnce(
  system: TestSystem,
  plans: readonly Plan[],
  ids: readonly string[],
): Promise<Map<string, string>> {
  for (const [i, plan] of plans.entries()) {
    const { order } = await createOrderOf(system, plan);
    expect(order!.id, `a repeat of ${plan.key}`).to.equal(ids[i]);
  }
  const rows: { id: string; status: string }[] = await system.orderDb.db('orders').whereIn('id', ids).select('id', 'status');
  const statusOf = new Map(rows.map((r) => [r.id, r.status]));
  const statusByKey = new Map(plans.map((plan, i) => [plan.key, statusOf.get(ids[i]!)!]));
  for (const [i, plan] of plans.entries()) {
    const want = plan.token === 'tok_pay' ? 'CONFIRMED' : 'CANCELLED';
    expect(statusByKey.get(plan.key), `status of ${plan.key} (${plan.token})`).to.equal(want);
    const charges: string[] = await system.orderDb.db('simulated_charges').where({ order_id: ids[i] }).pluck('status');
    if (want === 'CONFIRMED') expect(charges, `charges of ${plan.key}`).to.deep.equal(['captured']);
    else expect(charges, `charges of ${plan.key}`).to.not.include('captured');
  }
  expect(paymentViolations(system.gatewayLog()), 'payment discipline at the gateway').to.deep.equal([]);
  expect(await repeatedTransitions(system, ids), 'a status entered twice').to.deep.equal([]);
  return statusByKey;
}

/** Sold = units of the confirmed orders, nothing held, nothing lost (each product started with `initialStock`); the ledger invariant holds. */
export async function expectStockExact(system: TestSystem, confirmed: readonly Plan[], products: readonly Product[], initialStock: number) {
  const sold = new Map<string, number>();
  for (const plan of confirmed) {
    for (const item of plan.items) sold.set(item.productId, (sold.get(item.productId) ?? 0) + item.quantity);
  }
  for (const product of products) {
    const stock = await stockOf(system, product.id);
    const units = sold.get(product.id) ?? 0;
    expect({ sold: stock.sold, reserved: stock.reserved, available: stock.available }, `stock of ${product.sku}`).to.deep.equal({
      sold: units,
      reserved: 0,
      available: initialStock - units,
    });
  }
  expect(await inventoryViolations(system)).to.deep.equal([]);
}
