import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from '#test/support/test-database.js';
import { AppError } from '#libs/errors/app-error.js';
import type { CartServiceService } from '#libs/contracts/larder/order/v1/cart_service.js';
import type { Handlers } from '#libs/grpc/server.js';
import { clearCartItems, lockCartItems } from '../data/carts.js';
import { orderMigrations } from '../migrations/index.js';
import { cartHandlers, ctx, rejection, StubInventory } from './cart-harness.js';

describe('CartService', function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let inventory: StubInventory;
  let handlers: Handlers<typeof CartServiceService>;
  let now: Date;

  before(async () => {
    database = await createTestDatabase('carts', orderMigrations);
  });
  after(async () => database?.drop());

  beforeEach(() => {
    inventory = new StubInventory();
    now = new Date('2030-01-02T03:04:05.000Z');
    handlers = cartHandlers(database.db, inventory, { now: () => now });
  });

  /** A product inventory knows, with `available` units. */
  const product = (available = 100): string => {
    const id = randomUUID();
    inventory.available.set(id, available);
    return id;
  };
  const cartOf = async (customerId: string) => (await handlers.getCart({ customerId }, ctx)).cart!;
  const add = async (customerId: string, productId: string, quantity: number) =>
    (await handlers.addCartItem({ customerId, productId, quantity }, ctx)).cart!;
  const rowsOf = async (customerId: string) => ({
    carts: await database.db('carts').where({ customer_id: customerId }),
    items: await database.db('cart_items').where({ customer_id: customerId }),
  });

  it('returns an empty cart without update_time for a customer who never used it, and writes nothing', async () => {
    const customerId = randomUUID();
    expect(await cartOf(customerId)).to.deep.equal({ customerId, items: [], updateTime: undefined, fulfilment: undefined });
    expect(await rowsOf(customerId)).to.deep.equal({ carts: [], items: [] });
  });

  it('adds to what the line holds and returns the cart sorted by product id', async () => {
    const customerId = randomUUID();
    const [a, b] = [product(), product()].sort();
    await add(customerId, b!, 2);
    await add(customerId, a!, 1);
    const cart = await add(customerId, b!, 3);
    expect(cart).to.deep.equal({
      customerId,
      items: [
        { productId: a, quantity: 1 },
        { productId: b, quantity: 5 },
      ],
      updateTime: now,
      fulfilment: undefined,
    });
    expect(await cartOf(customerId)).to.deep.equal(cart);
    expect(inventory.asked.at(-1)).to.deep.equal({ productId: b, correlationId: 'test' });
  });

  it('accepts ids in upper case and stores them lower-cased', async () => {
    const customerId = randomUUID();
    const productId = product();
    const cart = await add(customerId.toUpperCase(), productId.toUpperCase(), 1);
    expect(cart.customerId).to.equal(customerId);
    expect(cart.items).to.deep.equal([{ productId, quantity: 1 }]);
  });

  it('loses no unit when 20 adds of 1 to the same line run in parallel', async () => {
    const customerId = randomUUID();
    const productId = product(1000);
    await Promise.all(Array.from({ length: 20 }, () => add(customerId, productId, 1)));
    expect((await cartOf(customerId)).items).to.deep.equal([{ productId, quantity: 20 }]);
  });

  it('refuses to hold more than inventory has available, saying how many (FAILED_PRECONDITION)', async () => {
    const customerId = randomUUID();
    const productId = product(5);
    await add(customerId, productId, 3);
    const error = await rejection(add(customerId, productId, 3), 'failedPrecondition');
    expect(error.reason).to.equal('INSUFFICIENT_STOCK');
    expect(error.metadata).to.include({ product_id: productId, requested: '6', available: '5' });
    expect((await cartOf(customerId)).items).to.deep.equal([{ productId, quantity: 3 }]);
  });

  it('lets concurrent adds together hold no more than was available', async () => {
    const customerId = randomUUID();
    const productId = product(5);
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => add(customerId, productId, 1)));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).to.have.length(5);
    for (const o of outcomes) if (o.status === 'rejected') expect((o.reason as AppError).reason).to.equal('INSUFFICIENT_STOCK');
    expect((await cartOf(customerId)).items).to.deep.equal([{ productId, quantity: 5 }]);
  });

  it('answers NOT_FOUND for a product inventory does not know, and writes nothing', async () => {
    const customerId = randomUUID();
    const error = await rejection(add(customerId, randomUUID(), 1), 'notFound');
    expect(error.reason).to.equal('PRODUCT_NOT_FOUND');
    expect(await rowsOf(customerId)).to.deep.equal({ carts: [], items: [] });
  });

  it('answers UNAVAILABLE when inventory cannot be asked, and writes nothing', async () => {
    const customerId = randomUUID();
    const productId = product();
    inventory.down = true;
    const error = await rejection(add(customerId, productId, 1), 'unavailable');
    expect(error.reason).to.equal('INVENTORY_UNAVAILABLE');
    await rejection(handlers.updateCartItem({ customerId, productId, quantity: 2 }, ctx), 'unavailable');
    expect(await rowsOf(customerId)).to.deep.equal({ carts: [], items: [] });
  });

  it('sets a quantity with UpdateCartItem, checking availability for the new quantity', async () => {
    const customerId = randomUUID();
    const productId = product(10);
    await add(customerId, productId, 2);
    now = new Date('2030-01-02T03:05:00.000Z');
    const { cart } = await handlers.updateCartItem({ customerId, productId, quantity: 7 }, ctx);
    expect(cart).to.deep.equal({ customerId, items: [{ productId, quantity: 7 }], updateTime: now, fulfilment: undefined });
    const error = await rejection(handlers.updateCartItem({ customerId, productId, quantity: 11 }, ctx), 'failedPrecondition');
    expect(error.metadata).to.include({ product_id: productId, requested: '11', available: '10' });
    expect((await cartOf(customerId)).items).to.deep.equal([{ productId, quantity: 7 }]);
    // A product not in the cart yet gets a line.
    const other = product();
    const after = (await handlers.updateCartItem({ customerId, productId: other, quantity: 4 }, ctx)).cart!;
    expect(after.items).to.deep.include({ productId: other, quantity: 4 });
  });

  it('removes the line when UpdateCartItem sets 0, without asking inventory', async () => {
    const customerId = randomUUID();
    const [a, b] = [product(), product()];
    await add(customerId, a, 2);
    await add(customerId, b, 1);
    const asked = inventory.asked.length;
    const { cart } = await handlers.updateCartItem({ customerId, productId: a, quantity: 0 }, ctx);
    expect(cart!.items).to.deep.equal([{ productId: b, quantity: 1 }]);
    expect(inventory.asked).to.have.length(asked);
  });

  it('removes a line, and removing one that is not there is no error and changes nothing', async () => {
    const customerId = randomUUID();
    const productId = product();
    await add(customerId, productId, 2);
    now = new Date('2030-01-02T04:00:00.000Z');
    const removed = (await handlers.removeCartItem({ customerId, productId }, ctx)).cart!;
    expect(removed).to.deep.equal({ customerId, items: [], updateTime: now, fulfilment: undefined });

    const later = new Date('2030-01-02T05:00:00.000Z');
    now = later;
    const again = (await handlers.removeCartItem({ customerId, productId }, ctx)).cart!;
    expect(again.updateTime).to.deep.equal(new Date('2030-01-02T04:00:00.000Z'));

    const stranger = randomUUID();
    expect((await handlers.removeCartItem({ customerId: stranger, productId }, ctx)).cart).to.deep.equal({
      customerId: stranger,
      items: [],
      updateTime: undefined,
      fulfilment: undefined,
    });
    expect(await rowsOf(stranger)).to.deep.equal({ carts: [], items: [] });
  });

  it('clears every line of the cart', async () => {
    const customerId = randomUUID();
    await add(customerId, product(), 1);
    await add(customerId, product(), 2);
    now = new Date('2030-01-03T00:00:00.000Z');
    const { cart } = await handlers.clearCart({ customerId }, ctx);
    expect(cart).to.deep.equal({ customerId, items: [], updateTime: now, fulfilment: undefined });
    expect((await rowsOf(customerId)).items).to.deep.equal([]);
    // Another customer's cart is untouched; clearing an unused cart is fine too.
    const other = randomUUID();
    await add(other, product(), 1);
    expect((await handlers.clearCart({ customerId: randomUUID() }, ctx)).cart!.items).to.deep.equal([]);
    expect((await cartOf(other)).items).to.have.length(1);
  });

  it('holds at most 1000 units per line (INVALID_ARGUMENT naming quantity)', async () => {
    const customerId = randomUUID();
    const productId = product(5000);
    await add(customerId, productId, 1000);
    await rejection(add(customerId, productId, 1), 'invalid', 'quantity');
    expect((await cartOf(customerId)).items).to.deep.equal([{ productId, quantity: 1000 }]);

    // Two adds that each fit alone but not together, racing: both read 500 before either writes
    // (a transaction holds the cart meanwhile), so the table's CHECK is what refuses the second.
    const racing = product(5000);
    await add(customerId, racing, 500);
    let racingAdds: Promise<PromiseSettledResult<unknown>[]> | undefined;
    await database.db.transaction(async (trx) => {
      await lockCartItems(trx, customerId);
      racingAdds = Promise.allSettled([add(customerId, racing, 300), add(customerId, racing, 300)]);
      await new Promise((resolve) => setTimeout(resolve, 200));
    });
    const outcomes = await racingAdds!;
    expect(outcomes.filter((o) => o.status === 'fulfilled')).to.have.length(1);
    const refused = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).to.be.instanceOf(AppError);
    expect(refused.reason).to.include({ kind: 'invalid', field: 'quantity' });
    expect((refused.reason as AppError).message).to.match(/would make the line hold more than 1000/); // the CHECK's mapping
    expect((await cartOf(customerId)).items).to.deep.include({ productId: racing, quantity: 800 });
  });

  it('holds at most 100 distinct products (FAILED_PRECONDITION CART_FULL), also under concurrency', async () => {
    const customerId = randomUUID();
    const products = Array.from({ length: 99 }, () => product());
    for (const productId of products) await add(customerId, productId, 1);
    // Five new products race for the last place: exactly one gets it.
    const outcomes = await Promise.allSettled(Array.from({ length: 5 }, () => add(customerId, product(), 1)));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).to.have.length(1);
    for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).to.include({ kind: 'failedPrecondition', reason: 'CART_FULL' });
    expect((await cartOf(customerId)).items).to.have.length(100);

    const error = await rejection(add(customerId, product(), 1), 'failedPrecondition');
    expect(error.reason).to.equal('CART_FULL');
    await rejection(handlers.updateCartItem({ customerId, productId: product(), quantity: 1 }, ctx), 'failedPrecondition');
    // More of a product already in the cart is fine.
    const cart = await add(customerId, products[0]!, 1);
    expect(cart.items.find((i) => i.productId === products[0])).to.deep.equal({ productId: products[0], quantity: 2 });
  });

  describe('validation (INVALID_ARGUMENT naming the field, nothing asked or written)', () => {
    const customerId = randomUUID();
    const productId = randomUUID();
    const cases: [string, () => Promise<unknown>, string][] = [
      ['GetCart, customer_id malformed', () => handlers.getCart({ customerId: 'not-a-uuid' }, ctx), 'customer_id'],
      ['GetCart, customer_id missing', () => handlers.getCart({ customerId: '' }, ctx), 'customer_id'],
      ['AddCartItem, customer_id malformed', () => handlers.addCartItem({ customerId: 'x', productId, quantity: 1 }, ctx), 'customer_id'],
      ['AddCartItem, product_id malformed', () => handlers.addCartItem({ customerId, productId: '1234', quantity: 1 }, ctx), 'product_id'],
      ['AddCartItem, quantity 0', () => handlers.addCartItem({ customerId, productId, quantity: 0 }, ctx), 'quantity'],
      ['AddCartItem, quantity -1', () => handlers.addCartItem({ customerId, productId, quantity: -1 }, ctx), 'quantity'],
      ['AddCartItem, quantity 1001', () => handlers.addCartItem({ customerId, productId, quantity: 1001 }, ctx), 'quantity'],
      [
        'UpdateCartItem, product_id malformed',
        () => handlers.updateCartItem({ customerId, productId: 'p', quantity: 1 }, ctx),
        'product_id',
      ],
      ['UpdateCartItem, quantity -1', () => handlers.updateCartItem({ customerId, productId, quantity: -1 }, ctx), 'quantity'],
      ['UpdateCartItem, quantity 1001', () => handlers.updateCartItem({ customerId, productId, quantity: 1001 }, ctx), 'quantity'],
      ['RemoveCartItem, customer_id malformed', () => handlers.removeCartItem({ customerId: 'c', productId }, ctx), 'customer_id'],
      ['RemoveCartItem, product_id malformed', () => handlers.removeCartItem({ customerId, productId: '' }, ctx), 'product_id'],
      ['ClearCart, customer_id malformed', () => handlers.clearCart({ customerId: `${customerId}0` }, ctx), 'customer_id'],
    ];
    for (const [name, call, field] of cases) {
      it(name, async () => {
        inventory.available.set(productId, 5000);
        const error = await rejection(call(), 'invalid', field);
        expect(error.metadata.field).to.equal(field);
        expect(inventory.asked).to.deep.equal([]);
      });
    }

    after(async () => {
      expect(await rowsOf(customerId)).to.deep.equal({ carts: [], items: [] });
    });
  });

  describe('lockCartItems / clearCartItems (for checkout)', () => {
    it('reads the locked cart and empties it in the caller’s transaction', async () => {
      const customerId = randomUUID();
      const [a, b] = [product(), product()].sort();
      await add(customerId, b!, 2);
      await add(customerId, a!, 1);
      const later = new Date('2030-02-01T00:00:00.000Z');
      const taken = await database.db.transaction(async (trx) => {
        const cart = await lockCartItems(trx, customerId);
        expect(await clearCartItems(trx, customerId, later)).to.equal(2);
        return cart;
      });
      expect(taken.items).to.deep.equal([
        { productId: a, quantity: 1 },
        { productId: b, quantity: 2 },
      ]);
      expect(await cartOf(customerId)).to.deep.equal({ customerId, items: [], updateTime: later, fulfilment: undefined });
    });

    it('makes a concurrent add wait until the transaction ends, so the cart is taken exactly once', async () => {
      const customerId = randomUUID();
      const productId = product();
      await add(customerId, productId, 1);
      let addSettled = false;
      let concurrentAdd: Promise<unknown> | undefined;
      const taken = await database.db.transaction(async (trx) => {
        const cart = await lockCartItems(trx, customerId);
        concurrentAdd = add(customerId, productId, 4).finally(() => {
          addSettled = true;
        });
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(addSettled, 'the add must wait for the lock').to.equal(false);
        await clearCartItems(trx, customerId);
        return cart;
      });
      await concurrentAdd;
      expect(taken.items).to.deep.equal([{ productId, quantity: 1 }]);
      // The add landed after the checkout emptied the cart: it starts a new line, not 5.
      expect((await cartOf(customerId)).items).to.deep.equal([{ productId, quantity: 4 }]);
    });

    it('returns an empty cart and clears nothing for a customer who never used one', async () => {
      const customerId = randomUUID();
      const result = await database.db.transaction(async (trx) => ({
        cart: await lockCartItems(trx, customerId),
        cleared: await clearCartItems(trx, customerId),
      }));
      expect(result).to.deep.equal({ cart: { customerId, items: [] }, cleared: 0 });
    });
  });
});
