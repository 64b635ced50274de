import { expect } from 'chai';
import { AppError } from '#libs/errors/app-error.js';
import { checkOrderUpdate, type UpdateOrderCommand } from '../../domain/update-order.js';
import type { OrderStatus, ShippingAddress } from '../../domain/types.js';

/**
 * UpdateOrder's rule over every status and every kind of request: the address
 * changes only until the order ships or ends, whatever else the request asks;
 * fulfilment moves only CONFIRMED → SHIPPED → DELIVERED; the same status again
 * is no move at all.
 */

/** The rule looks only at whether there is an address, not at what it says. */
const addressAt = (line1: string): ShippingAddress => ({ recipient: 'R', line1, line2: '', city: 'C', postalCode: 'P', countryCode: 'NL' });
const ADDRESS = addressAt('1 Old Street');
const NEW_ADDRESS = addressAt('2 New Street');

type Request = 'address' | 'shipped' | 'delivered' | 'shipped+address' | 'delivered+address' | 'same' | 'same+address';
type Outcome = 'ok' | 'ILLEGAL_ORDER_TRANSITION' | 'ORDER_SHIPPED' | 'ORDER_ENDED';

const commandFor = (request: Request, status: OrderStatus): Pick<UpdateOrderCommand, 'status' | 'shippingAddress'> => {
  const [what, withAddress] = request.split('+') as [string, string | undefined];
  const address = what === 'address' || withAddress ? { shippingAddress: NEW_ADDRESS } : {};
  if (what === 'address') return address;
  const asked: OrderStatus = what === 'same' ? status : what === 'shipped' ? 'SHIPPED' : 'DELIVERED';
  return { status: asked, ...address };
};

/** Written out case by case (not computed), so a rule that drifts fails here. Columns follow REQUESTS. */
const REQUESTS: Request[] = ['address', 'shipped', 'delivered', 'shipped+address', 'delivered+address', 'same', 'same+address'];
const ILLEGAL = 'ILLEGAL_ORDER_TRANSITION';
const EXPECTED: Record<OrderStatus, Outcome[]> = {
  PENDING: ['ok', ILLEGAL, ILLEGAL, ILLEGAL, ILLEGAL, 'ok', 'ok'],
  AWAITING_STOCK: ['ok', ILLEGAL, ILLEGAL, ILLEGAL, ILLEGAL, 'ok', 'ok'],
  RESERVED: ['ok', ILLEGAL, ILLEGAL, ILLEGAL, ILLEGAL, 'ok', 'ok'],
  // Shipping with a new address at once is fine: it leaves with that one.
  CONFIRMED: ['ok', 'ok', ILLEGAL, 'ok', ILLEGAL, 'ok', 'ok'],
  SHIPPED: ['ORDER_SHIPPED', 'ok', 'ok', 'ORDER_SHIPPED', 'ORDER_SHIPPED', 'ok', 'ORDER_SHIPPED'],
  DELIVERED: ['ORDER_SHIPPED', ILLEGAL, 'ok', ILLEGAL, 'ORDER_SHIPPED', 'ok', 'ORDER_SHIPPED'],
  CANCELLED: ['ORDER_ENDED', ILLEGAL, ILLEGAL, ILLEGAL, ILLEGAL, 'ok', 'ORDER_ENDED'],
  FAILED: ['ORDER_ENDED', ILLEGAL, ILLEGAL, ILLEGAL, ILLEGAL, 'ok', 'ORDER_ENDED'],
};

function outcomeOf(order: Parameters<typeof checkOrderUpdate>[0], command: Parameters<typeof checkOrderUpdate>[1]): string {
  try {
    checkOrderUpdate(order, command);
    return 'ok';
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    return error.kind === 'failedPrecondition' ? error.reason : `${error.kind}:${error.reason}:${error.field ?? ''}`;
  }
}

const orderIn = (status: OrderStatus, more: { cancelRequested?: boolean; shippingAddress?: ShippingAddress } = {}) => ({
  id: 'order-1',
  status,
  cancelRequested: false,
  shippingAddress: ADDRESS,
  ...more,
});

describe('UpdateOrder rule (checkOrderUpdate)', () => {
  for (const [status, expected] of Object.entries(EXPECTED) as [OrderStatus, Outcome[]][]) {
    it(`${status}: ${REQUESTS.map((r, i) => `${r} → ${expected[i]}`).join(', ')}`, () => {
      const actual = REQUESTS.map((request) => outcomeOf(orderIn(status), commandFor(request, status)));
      expect(Object.fromEntries(REQUESTS.map((r, i) => [r, actual[i]]))).to.deep.equal(
        Object.fromEntries(REQUESTS.map((r, i) => [r, expected[i]])),
      );
    });
  }

  it('a CONFIRMED order with a cancellation requested does not ship, but its address may still change', () => {
    const order = orderIn('CONFIRMED', { cancelRequested: true });
    expect(REQUESTS.map((request) => outcomeOf(order, commandFor(request, 'CONFIRMED')))).to.deep.equal([
      'ok',
      ILLEGAL,
      ILLEGAL,
      ILLEGAL,
      ILLEGAL,
      'ok',
      'ok',
    ]);
  });

  it('a CONFIRMED order without an address ships only with one given in the same request', () => {
    const order = orderIn('CONFIRMED', { shippingAddress: undefined });
    expect(outcomeOf(order, { status: 'SHIPPED' })).to.equal('invalid:INVALID_ARGUMENT:order.shipping_address');
    expect(outcomeOf(order, { status: 'SHIPPED', shippingAddress: NEW_ADDRESS })).to.equal('ok');
  });

  it("a delivery order's new address needs a postal code routing can match (1-16 letters, digits, spaces or '-')", () => {
    const delivery = { ...orderIn('PENDING'), fulfilment: { kind: 'delivery' as const, address: ADDRESS } };
    const field = 'invalid:INVALID_ARGUMENT:order.shipping_address.postal_code';
    expect(outcomeOf(delivery, { shippingAddress: { ...NEW_ADDRESS, postalCode: '1015/AA' } })).to.equal(field);
    expect(outcomeOf(delivery, { shippingAddress: { ...NEW_ADDRESS, postalCode: '1'.repeat(17) } })).to.equal(field);
    expect(outcomeOf(delivery, { shippingAddress: { ...NEW_ADDRESS, postalCode: '1015 AA' } })).to.equal('ok');
    expect(
      outcomeOf(orderIn('PENDING'), { shippingAddress: { ...NEW_ADDRESS, postalCode: '1015/AA' } }),
      'no delivery: as before',
    ).to.equal('ok');
  });

  it('the refusals name the order and the status it is in', () => {
    for (const status of ['SHIPPED', 'DELIVERED', 'CANCELLED', 'FAILED'] as const) {
      const error = (() => {
        try {
          checkOrderUpdate(orderIn(status), { shippingAddress: NEW_ADDRESS });
        } catch (e) {
          return e as AppError;
        }
        throw new Error(`${status}: the address change was accepted`);
      })();
      expect(error.metadata, status).to.deep.equal({ order_id: 'order-1', status });
    }
  });
});
