import { randomUUID } from 'node:crypto';
import { status as Code } from '@grpc/grpc-js';
import { expect } from 'chai';
import { OrderStatus, type Order, type OrderAllocation } from '#libs/contracts/larder/order/v1/resources.js';
import { ORDER_EVENTS } from '#libs/events/catalog.js';
import { expectGrpcError } from '#test/support/grpc-errors.js';
import {
  createProduct,
  hasStatus,
  insertLocation,
  inventoryViolations,
  reconcileSystem,
  startSystem,
  stockAt,
  stockAtLocation,
  waitForOrder,
  type TestSystem,
} from './system.js';

const S = OrderStatus;
const ADDRESS = { recipient: 'Ada', line1: 'Torstr. 1', line2: '', city: 'Berlin', postalCode: '10119', countryCode: 'DE' };
const CUSTOMER = { latitude: 52.53, longitude: 13.4 };

/** Units per location of an order's allocation lines for one product. */
const unitsAt = (allocations: readonly OrderAllocation[], productId: string) =>
  Object.fromEntries(allocations.filter((a) => a.productId === productId).map((a) => [a.locationId, a.quantity]));

describe('checkout with a fulfilment (both services as processes): where the stock is reserved', function () {
  this.timeout(120_000);
  let system: TestSystem;
  /** A pickup store; two dark stores delivering to 101xx (near and far from the customer); a warehouse delivering to 999xx only. */
  let store: string, near: string, far: string, elsewhere: string;

  before(async () => {
    system = await startSystem({ inventoryEnv: { LOCATION_CACHE_MS: '0' } });
    store = await insertLocation(system, { code: 'store', pickup: true, coordinates: { latitude: 52.5, longitude: 13.42 } });
    near = await insertLocation(system, {
      code: 'near',
      delivery: true,
      postalCodePrefixes: ['101'],
      coordinates: { latitude: 52.52, longitude: 13.405 },
    });
    far = await insertLocation(system, {
      code: 'far',
      delivery: true,
      postalCodePrefixes: ['101'],
      coordinates: { latitude: 52.45, longitude: 13.3 },
    });
    elsewhere = await insertLocation(system, { code: 'elsewhere', delivery: true, postalCodePrefixes: ['999'] });
  });
  after(async () => system?.stop());
  afterEach(async () => expect(await inventoryViolations(system)).to.deep.equal([]));

  /** A product with no stock at the default location (which delivers everywhere) and `units` at each location named. */
  async function productAt(units: Record<string, number>): Promise<string> {
    const product = await createProduct(system, 0, 100);
    for (const [locationId, n] of Object.entries(units)) await stockAt(system, product.id, locationId, n);
    return product.id;
  }
  const createOrder = (productId: string, quantity: number, fulfilment: object, key = randomUUID()) =>
    system.orders.createOrder({
      customerId: randomUUID(),
      items: [{ productId, quantity }],
      idempotencyKey: key,
      paymentToken: 'tok_ok',
      fulfilment,
    });

  it('a pickup reserves at that location only, and the order shows it and its allocation', async () => {
    const productId = await productAt({ [store]: 5, [near]: 5 });
    const { order } = await createOrder(productId, 3, { pickup: { locationId: store } });
    expect(order!.fulfilment).to.deep.include({ pickup: { locationId: store } });
    const confirmed = await waitForOrder(system, order!.id, hasStatus(S.ORDER_STATUS_CONFIRMED));
    expect(confirmed.allocations).to.deep.equal([{ productId, locationId: store, quantity: 3 }]);
    expect(await stockAtLocation(system, productId, store)).to.include({ available: 2, reserved: 0, sold: 3 });
    expect(await stockAtLocation(system, productId, near)).to.include({ available: 5, reserved: 0, sold: 0 });
  });

  it('a delivery is routed over the locations serving its address, split when it must; GetOrder, ListOrders and the event show it', async () => {
    const productId = await productAt({ [near]: 2, [far]: 2, [elsewhere]: 10 });
    const customerId = randomUUID();
    const { order } = await system.orders.createOrder({
      customerId,
      items: [{ productId, quantity: 3 }],
      idempotencyKey: 'delivery',
      paymentToken: 'tok_ok',
      fulfilment: { delivery: { address: ADDRESS, coordinates: CUSTOMER } },
    });
    const confirmed = await waitForOrder(system, order!.id, hasStatus(S.ORDER_STATUS_CONFIRMED));
    expect(unitsAt(confirmed.allocations, productId)).to.deep.equal({ [near]: 2, [far]: 1 });
    expect(confirmed.shippingAddress).to.deep.equal(ADDRESS);
    expect(confirmed.fulfilment!.delivery).to.deep.equal({ address: ADDRESS, coordinates: CUSTOMER });
    const [listed] = (await system.orders.listOrders({ customerId })).orders;
    expect(listed!.allocations).to.deep.equal(confirmed.allocations);
    expect(await stockAtLocation(system, productId, elsewhere)).to.include({ available: 10, sold: 0 });

    // The events carry the order: OrderReserved with its allocation, every one with its fulfilment.
    const rows: { subject: string; payload: Buffer }[] = await system.orderDb.db('outbox').select('subject', 'payload');
    const mine = rows
      .filter((r) => r.subject === ORDER_EVENTS.reserved.subject)
      .map((r) => (ORDER_EVENTS.reserved.codec.decode(r.payload) as { order?: Order }).order!)
      .filter((o) => o.id === order!.id);
    expect(mine).to.have.length(1);
    expect(mine[0]!.allocations).to.deep.equal(confirmed.allocations);
    expect(mine[0]!.fulfilment!.delivery).to.deep.equal({ address: ADDRESS, coordinates: CUSTOMER });
  });

  it('a delivery no serving location can fill waits for stock (AWAITING_STOCK), however much is elsewhere', async () => {
    const productId = await productAt({ [near]: 1, [elsewhere]: 50 });
    const { order } = await createOrder(productId, 2, { delivery: { address: ADDRESS } });
    const waiting = await waitForOrder(system, order!.id, hasStatus(S.ORDER_STATUS_AWAITING_STOCK));
    expect(waiting.allocations).to.deep.equal([]);
    await stockAt(system, productId, near, 1);
    const confirmed = await waitForOrder(system, order!.id, hasStatus(S.ORDER_STATUS_CONFIRMED));
    expect(unitsAt(confirmed.allocations, productId)).to.deep.equal({ [near]: 2 });
  });

  for (const [name, where, words] of [
    ['an unknown', () => Promise.resolve(randomUUID()), 'does not exist'],
    ['a deactivated', () => insertLocation(system, { code: 'closed', pickup: true, active: false }), 'is not active'],
  ] as const) {
    it(`a pickup at ${name} location fails the order, saying so, and holds nothing`, async () => {
      const locationId = await where();
      const productId = await productAt({ [store]: 5 });
      const { order } = await createOrder(productId, 1, { pickup: { locationId } });
      const failed = await waitForOrder(system, order!.id, hasStatus(S.ORDER_STATUS_FAILED));
      expect(failed.cancelReason).to.equal(`pickup location ${locationId} ${words}`);
      expect(await stockAtLocation(system, productId, store)).to.include({ available: 5, reserved: 0 });
    });
  }

  it('the idempotency key covers the fulfilment: the same request replays, another fulfilment is IDEMPOTENCY_KEY_REUSED', async () => {
    const productId = await productAt({ [store]: 5 });
    const customerId = randomUUID();
    const request = {
      customerId,
      items: [{ productId, quantity: 1 }],
      idempotencyKey: 'same-key',
      paymentToken: 'tok_ok',
      fulfilment: { pickup: { locationId: store } },
    };
    const first = (await system.orders.createOrder(request)).order!;
    expect((await system.orders.createOrder(request)).order!.id).to.equal(first.id);
    const { reason } = await expectGrpcError(
      system.orders.createOrder({ ...request, fulfilment: { delivery: { address: ADDRESS } } }),
      Code.ALREADY_EXISTS,
    );
    expect(reason).to.equal('IDEMPOTENCY_KEY_REUSED');
    await expectGrpcError(system.orders.createOrder({ ...request, fulfilment: undefined }), Code.ALREADY_EXISTS);
    await waitForOrder(system, first.id, hasStatus(S.ORDER_STATUS_CONFIRMED));
  });

  it("a cart's delivery scopes its availability check, and Checkout naming no fulfilment uses it", async () => {
    const productId = await productAt({ [near]: 2, [elsewhere]: 50 });
    const customerId = randomUUID();
    const { cart } = await system.carts.setCartFulfilment({
      customerId,
      fulfilment: { delivery: { address: ADDRESS, coordinates: CUSTOMER } },
    });
    expect(cart!.fulfilment!.delivery).to.deep.equal({ address: ADDRESS, coordinates: CUSTOMER });
    const { reason, info } = await expectGrpcError(
      system.carts.addCartItem({ customerId, productId, quantity: 3 }),
      Code.FAILED_PRECONDITION,
    );
    expect(reason).to.equal('INSUFFICIENT_STOCK');
    expect(info!.metadata.available).to.equal('2');
    await system.carts.addCartItem({ customerId, productId, quantity: 2 });
    expect((await system.carts.getCart({ customerId })).cart!.fulfilment!.delivery!.address).to.deep.equal(ADDRESS);

    // The cart's delivery brings the address: a shipping_address beside it is refused, and the cart stays.
    const refused = await expectGrpcError(
      system.orders.checkout({ customerId, idempotencyKey: 'from-cart', paymentToken: 'tok_ok', shippingAddress: ADDRESS }),
      Code.INVALID_ARGUMENT,
    );
    expect(refused.field).to.equal('shipping_address');
    expect((await system.carts.getCart({ customerId })).cart!.items).to.have.length(1);

    const { order } = await system.orders.checkout({ customerId, idempotencyKey: 'from-cart', paymentToken: 'tok_ok' });
    expect(order!.fulfilment!.delivery!.address).to.deep.equal(ADDRESS);
    expect(order!.shippingAddress).to.deep.equal(ADDRESS);
    const confirmed = await waitForOrder(system, order!.id, hasStatus(S.ORDER_STATUS_CONFIRMED));
    expect(unitsAt(confirmed.allocations, productId)).to.deep.equal({ [near]: 2 });

    // Without a fulfilment the cart checks the totals again (available to sell over every location).
    await system.carts.setCartFulfilment({ customerId });
    await system.carts.addCartItem({ customerId, productId, quantity: 30 });
  });

  it("a cart's pickup: the location is checked with inventory, the cart counts only its stock, and Checkout reserves there", async () => {
    const customerId = randomUUID();
    const pickupAt = (locationId: string) => system.carts.setCartFulfilment({ customerId, fulfilment: { pickup: { locationId } } });
    const closed = await insertLocation(system, { code: 'closed-store', pickup: true, active: false });
    for (const [locationId, code, reason] of [
      [randomUUID(), Code.NOT_FOUND, 'LOCATION_NOT_FOUND'],
      [near, Code.FAILED_PRECONDITION, 'PICKUP_NOT_OFFERED'],
      [closed, Code.FAILED_PRECONDITION, 'LOCATION_INACTIVE'],
    ] as const) {
      const refused = await expectGrpcError(pickupAt(locationId), code);
      expect({ reason: refused.reason, field: refused.field }).to.deep.equal({ reason, field: 'fulfilment.pickup.location_id' });
    }
    expect((await system.carts.getCart({ customerId })).cart!.fulfilment).to.equal(undefined);

    const productId = await productAt({ [store]: 1, [near]: 10 });
    expect((await pickupAt(store)).cart!.fulfilment).to.deep.include({ pickup: { locationId: store } });
    const { info } = await expectGrpcError(system.carts.addCartItem({ customerId, productId, quantity: 2 }), Code.FAILED_PRECONDITION);
    expect(info!.metadata.available).to.equal('1');
    await system.carts.addCartItem({ customerId, productId, quantity: 1 });
    const { order } = await system.orders.checkout({ customerId, idempotencyKey: 'pickup-cart', paymentToken: 'tok_ok' });
    expect(order!.fulfilment).to.deep.include({ pickup: { locationId: store } });
    const confirmed = await waitForOrder(system, order!.id, hasStatus(S.ORDER_STATUS_CONFIRMED));
    expect(confirmed.allocations).to.deep.equal([{ productId, locationId: store, quantity: 1 }]);
  });

  it('the reconciler agrees with every order above, and reports an order whose allocation differs from its reservation', async () => {
    const before = await reconcileSystem(system);
    expect(before.disagreements).to.deep.equal([]);
    const [victim] = await system.orderDb
      .db('orders')
      .whereNotNull('allocations')
      .whereRaw('jsonb_array_length(allocations) > 0')
      .select('id', 'allocations');
    const moved = (victim!.allocations as { productId: string; locationId: string; quantity: number }[]).map((a) => ({
      ...a,
      locationId: elsewhere,
    }));
    await system.orderDb
      .db('orders')
      .update({ allocations: JSON.stringify(moved) })
      .where({ id: victim!.id });
    const after = await reconcileSystem(system);
    expect(after.disagreements.map((d) => d.orderId)).to.deep.equal([victim!.id]);
    expect(after.disagreements[0]!.problem).to.include("order's allocation differs from its reservation's").and.include(`@${elsewhere}`);
  });
});
