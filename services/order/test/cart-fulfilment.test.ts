import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { CartServiceService } from '#libs/contracts/larder/order/v1/cart_service.js';
import type { Handlers } from '#libs/grpc/server.js';
import { createTestDatabase, type TestDatabase } from '#test/support/test-database.js';
import { orderMigrations } from '../migrations/index.js';
import { cartHandlers, ctx, rejection, StubInventory } from './cart-harness.js';

const ADDRESS = { recipient: 'Ada', line1: 'Torstr. 1', line2: '', city: 'Berlin', postalCode: '10119', countryCode: 'DE' };
const COORDINATES = { latitude: 52.53, longitude: 13.4 };

describe('CartService: SetCartFulfilment and the availability it scopes', function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let inventory: StubInventory;
  let handlers: Handlers<typeof CartServiceService>;
  const now = new Date('2030-01-02T03:04:05.000Z');

  before(async () => {
    database = await createTestDatabase('cart_fulfilment', orderMigrations);
  });
  after(async () => database?.drop());
  beforeEach(() => {
    inventory = new StubInventory();
    handlers = cartHandlers(database.db, inventory, { now: () => now });
  });

  const store = (where: { active?: boolean; pickup?: boolean } = {}) => {
    const id = randomUUID();
    inventory.locations.set(id, { active: where.active ?? true, pickup: where.pickup ?? true });
    return id;
  };
  const product = (total: number, inScope: Record<string, number> = {}) => {
    const id = randomUUID();
    inventory.available.set(id, total);
    for (const [scope, units] of Object.entries(inScope)) inventory.availableIn.set(`${scope} ${id}`, units);
    return id;
  };
  const set = async (customerId: string, fulfilment?: object) => (await handlers.setCartFulfilment({ customerId, fulfilment }, ctx)).cart!;
  const add = (customerId: string, productId: string, quantity: number) => handlers.addCartItem({ customerId, productId, quantity }, ctx);

  it('stores a pickup at a location inventory knows, GetCart shows it, and unset clears it', async () => {
    const customerId = randomUUID();
    const locationId = store();
    const cart = await set(customerId, { pickup: { locationId: locationId.toUpperCase() } });
    expect(cart.fulfilment).to.deep.equal({ pickup: { locationId } });
    expect(cart.updateTime).to.deep.equal(now);
    expect((await handlers.getCart({ customerId }, ctx)).cart!.fulfilment).to.deep.equal({ pickup: { locationId } });
    expect((await set(customerId)).fulfilment).to.equal(undefined);
    expect((await handlers.getCart({ customerId }, ctx)).cart!.fulfilment).to.equal(undefined);
  });

  it('stores a delivery with its address and coordinates without asking inventory', async () => {
    const customerId = randomUUID();
    inventory.down = true;
    const cart = await set(customerId, { delivery: { address: ADDRESS, coordinates: COORDINATES } });
    expect(cart.fulfilment).to.deep.equal({ delivery: { address: ADDRESS, coordinates: COORDINATES } });
  });

  for (const [name, where, kind, reason] of [
    ['an unknown location', undefined, 'notFound', 'LOCATION_NOT_FOUND'],
    ['a deactivated location', { active: false }, 'failedPrecondition', 'LOCATION_INACTIVE'],
    ['a location without pickup', { pickup: false }, 'failedPrecondition', 'PICKUP_NOT_OFFERED'],
  ] as const) {
    it(`refuses a pickup at ${name} (${reason}, naming the field) and changes nothing`, async () => {
      const customerId = randomUUID();
      const locationId = where ? store(where) : randomUUID();
      const error = await rejection(set(customerId, { pickup: { locationId } }), kind, 'fulfilment.pickup.location_id');
      expect(error.reason).to.equal(reason);
      expect(await database.db('carts').where({ customer_id: customerId })).to.deep.equal([]);
    });
  }

  it('answers UNAVAILABLE when the location cannot be checked', async () => {
    inventory.down = true;
    const error = await rejection(set(randomUUID(), { pickup: { locationId: randomUUID() } }), 'unavailable');
    expect(error.reason).to.equal('INVENTORY_UNAVAILABLE');
  });

  it('checks availability at the pickup location only, not the totals', async () => {
    const customerId = randomUUID();
    const locationId = store();
    const scope = JSON.stringify({ locationId });
    const productId = product(100, { [scope]: 2 });
    await set(customerId, { pickup: { locationId } });
    await add(customerId, productId, 2);
    const error = await rejection(add(customerId, productId, 1), 'failedPrecondition');
    expect(error.reason).to.equal('INSUFFICIENT_STOCK');
    expect(error.metadata).to.include({ requested: '3', available: '2' });
    expect(inventory.asked.at(-1)).to.deep.equal({ productId, correlationId: 'test', scope: { locationId } });
  });

  it('checks availability over the locations delivering to the address (postal code and coordinates)', async () => {
    const customerId = randomUUID();
    const destination = { postalCode: '10119', coordinates: COORDINATES };
    const productId = product(100, { [JSON.stringify({ destination })]: 4 });
    await set(customerId, { delivery: { address: ADDRESS, coordinates: COORDINATES } });
    await handlers.updateCartItem({ customerId, productId, quantity: 4 }, ctx);
    const error = await rejection(handlers.updateCartItem({ customerId, productId, quantity: 5 }, ctx), 'failedPrecondition');
    expect(error.reason).to.equal('INSUFFICIENT_STOCK');
    expect(inventory.asked.at(-1)).to.deep.equal({ productId, correlationId: 'test', scope: { destination } });
  });

  it('checks the totals again once the fulfilment is cleared', async () => {
    const customerId = randomUUID();
    const locationId = store();
    const productId = product(10);
    await set(customerId, { pickup: { locationId } });
    await rejection(add(customerId, productId, 1), 'failedPrecondition');
    await set(customerId);
    await add(customerId, productId, 10);
    expect(inventory.asked.at(-1)).to.deep.equal({ productId, correlationId: 'test' });
  });
});
