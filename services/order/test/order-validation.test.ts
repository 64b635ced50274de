import { randomUUID } from 'node:crypto';
import { credentials, Client, Metadata, status as Code } from '@grpc/grpc-js';
import { expect } from 'chai';
import * as cartMessages from '../../../libs/contracts/larder/order/v1/cart_service.js';
import { CartServiceService } from '../../../libs/contracts/larder/order/v1/cart_service.js';
import * as orderMessages from '../../../libs/contracts/larder/order/v1/order_service.js';
import { OrderServiceService } from '../../../libs/contracts/larder/order/v1/order_service.js';
import { HealthCheckResponse_ServingStatus, HealthClient } from '../../../libs/contracts/grpc/health/v1/health.js';
import { createPromiseClient } from '../../../libs/grpc/client.js';
import { errorInfoOf } from '../../../libs/grpc/status.js';
import { expectGrpcError, outcomeOf } from '../../../libs/testing/grpc-errors.js';
import { createProduct, startSystem, type TestSystem } from './system.js';

const TABLES = ['orders', 'order_items', 'order_events', 'carts', 'cart_items', 'outbox', 'simulated_charges'];

describe('order service: hostile input and API keys', function () {
  this.timeout(60_000);
  let system: TestSystem;
  let productId: string;
  before(async () => {
    system = await startSystem();
    productId = (await createProduct(system, 50)).id;
  });
  after(async () => system?.stop());

  const counts = async () =>
    Object.fromEntries(
      await Promise.all(TABLES.map(async (t) => [t, Number((await system.orderDb.db(t).count<{ c: string }[]>('* as c'))[0]!.c)] as const)),
    );

  it('refuses bad input with INVALID_ARGUMENT naming the field, and changes nothing', async () => {
    const customerId = randomUUID();
    const item = { productId, quantity: 1 };
    const good = { customerId, idempotencyKey: 'k', paymentToken: 'tok_ok' };
    const address = { recipient: 'A', line1: 'B 1', line2: '', city: 'C', postalCode: '1', countryCode: 'NL' };
    const cases: [string, () => Promise<unknown>, string][] = [
      ['GetCart without customer', () => system.carts.getCart({}), 'customer_id'],
      ['AddCartItem malformed customer', () => system.carts.addCartItem({ customerId: 'x', productId, quantity: 1 }), 'customer_id'],
      ['AddCartItem malformed product', () => system.carts.addCartItem({ customerId, productId: '1234', quantity: 1 }), 'product_id'],
      ['AddCartItem quantity 0', () => system.carts.addCartItem({ customerId, productId, quantity: 0 }), 'quantity'],
      ['AddCartItem quantity -1', () => system.carts.addCartItem({ customerId, productId, quantity: -1 }), 'quantity'],
      ['AddCartItem quantity 1001', () => system.carts.addCartItem({ customerId, productId, quantity: 1001 }), 'quantity'],
      ['UpdateCartItem quantity 1001', () => system.carts.updateCartItem({ customerId, productId, quantity: 1001 }), 'quantity'],
      ['Checkout without key', () => system.orders.checkout({ customerId, paymentToken: 'tok_ok' }), 'idempotency_key'],
      ['Checkout key too long', () => system.orders.checkout({ ...good, idempotencyKey: 'k'.repeat(129) }), 'idempotency_key'],
      ['Checkout token with spaces', () => system.orders.checkout({ ...good, paymentToken: 'tok ok' }), 'payment_token'],
      ['Checkout token missing', () => system.orders.checkout({ ...good, paymentToken: '' }), 'payment_token'],
      ['Checkout control chars', () => system.orders.checkout({ ...good, idempotencyKey: 'a\u0007b' }), 'idempotency_key'],
      [
        'Checkout country nl',
        () => system.orders.checkout({ ...good, shippingAddress: { ...address, countryCode: 'nl' } }),
        'shipping_address.country_code',
      ],
      [
        'Checkout recipient too long',
        () => system.orders.checkout({ ...good, shippingAddress: { ...address, recipient: 'r'.repeat(201) } }),
        'shipping_address.recipient',
      ],
      ['CreateOrder no items', () => system.orders.createOrder({ ...good, items: [] }), 'items'],
      [
        'CreateOrder 101 items',
        () => system.orders.createOrder({ ...good, items: Array.from({ length: 101 }, () => ({ productId: randomUUID(), quantity: 1 })) }),
        'items',
      ],
      ['CreateOrder duplicate product', () => system.orders.createOrder({ ...good, items: [item, item] }), 'items[1].product_id'],
      [
        'CreateOrder quantity 0',
        () => system.orders.createOrder({ ...good, items: [item, { productId: randomUUID(), quantity: 0 }] }),
        'items[1].quantity',
      ],
      ['GetOrder malformed', () => system.orders.getOrder({ id: 'nope' }), 'id'],
      ['ListOrders without customer', () => system.orders.listOrders({}), 'customer_id'],
      ['ListOrders page size', () => system.orders.listOrders({ customerId, pageSize: 1001 }), 'page_size'],
      ['ListOrders negative page size', () => system.orders.listOrders({ customerId, pageSize: -1 }), 'page_size'],
      ['ListOrders garbage token', () => system.orders.listOrders({ customerId, pageToken: '%%%' }), 'page_token'],
      ['ListOrders unknown status', () => system.orders.listOrders({ customerId, status: 99 as never }), 'status'],
      ['CancelOrder reason too long', () => system.orders.cancelOrder({ id: randomUUID(), reason: 'r'.repeat(501) }), 'reason'],
      ['UpdateOrder without mask', () => system.orders.updateOrder({ order: { id: randomUUID() } }), 'update_mask'],
      ['UpdateOrder unknown path', () => system.orders.updateOrder({ order: { id: randomUUID() }, updateMask: ['total'] }), 'update_mask'],
      [
        'UpdateOrder status CONFIRMED',
        () => system.orders.updateOrder({ order: { id: randomUUID(), status: 4 }, updateMask: ['status'] }),
        'order.status',
      ],
      [
        'UpdateOrder bad etag',
        () => system.orders.updateOrder({ order: { id: randomUUID(), etag: 'x', status: 5 }, updateMask: ['status'] }),
        'order.etag',
      ],
      ['ListOrderEvents malformed', () => system.orders.listOrderEvents({ orderId: '' }), 'order_id'],
    ];
    const before = await counts();
    const wrong: string[] = [];
    for (const [name, call, field] of cases) {
      try {
        await call();
        wrong.push(`${name}: succeeded`);
      } catch (error) {
        const e = error as { code: number; details: string };
        const got = errorInfoOf(e as never)?.metadata.field;
        if (e.code !== Code.INVALID_ARGUMENT || got !== field) wrong.push(`${name}: ${Code[e.code]} field=${got} (${e.details})`);
      }
    }
    expect(wrong).to.deep.equal([]);
    expect(await counts()).to.deep.equal(before);
  });

  it('answers INVALID_ARGUMENT to bytes that are not a protobuf message, and WatchOrder errors end the stream', async () => {
    const client = new Client(system.orderAddress, credentials.createInsecure());
    const metadata = new Metadata();
    metadata.set('authorization', 'Bearer dev-order-admin-key');
    for (const path of ['/larder.order.v1.OrderService/Checkout', '/larder.order.v1.CartService/AddCartItem']) {
      const code = await new Promise<number>((resolve) =>
        client.makeUnaryRequest(
          path,
          (b: Buffer) => b,
          (b: Buffer) => b,
          Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]),
          metadata,
          (error) => resolve(error?.code ?? Code.OK),
        ),
      );
      expect(Code[code], path).to.equal('INVALID_ARGUMENT');
    }
    const watch = OrderServiceService.watchOrder;
    const code = await new Promise<number>((resolve) => {
      const stream = client.makeServerStreamRequest(
        watch.path,
        watch.requestSerialize,
        watch.responseDeserialize,
        orderMessages.WatchOrderRequest.fromPartial({ id: 'bad' }),
        metadata,
        {
          deadline: Date.now() + 3_000,
        },
      );
      stream.on('data', () => undefined);
      stream.on('error', (error: { code: number }) => resolve(error.code));
      stream.on('end', () => resolve(Code.OK));
    });
    expect(Code[code]).to.equal('INVALID_ARGUMENT');
    client.close();
  });

  it('checks API keys and scopes; health needs none', async () => {
    const as = (apiKey?: string) => ({
      carts: createPromiseClient(CartServiceService, cartMessages, system.orderAddress, { defaults: { apiKey } }),
      orders: createPromiseClient(OrderServiceService, orderMessages, system.orderAddress, { defaults: { apiKey } }),
    });
    const anonymous = as();
    const unknown = as('not-a-key-but-long-enough');
    const storefront = as('dev-storefront-key');
    const support = as('dev-order-support-key');
    const customerId = randomUUID();
    try {
      expect((await expectGrpcError(anonymous.carts.getCart({ customerId }), Code.UNAUTHENTICATED)).reason).to.equal('API_KEY_MISSING');
      expect((await expectGrpcError(unknown.orders.listOrders({ customerId }), Code.UNAUTHENTICATED)).reason).to.equal('API_KEY_INVALID');
      expect(await outcomeOf(storefront.carts.addCartItem({ customerId, productId, quantity: 1 }))).to.equal('OK');
      expect(await outcomeOf(storefront.orders.listOrders({ customerId }))).to.equal('OK');
      expect(
        (
          await expectGrpcError(
            storefront.orders.updateOrder({ order: { id: randomUUID() }, updateMask: ['status'] }),
            Code.PERMISSION_DENIED,
          )
        ).reason,
      ).to.equal('SCOPE_MISSING');
      await expectGrpcError(storefront.orders.deleteOrder({ id: randomUUID() }), Code.PERMISSION_DENIED);
      await expectGrpcError(support.carts.addCartItem({ customerId, productId, quantity: 1 }), Code.PERMISSION_DENIED);
      await expectGrpcError(support.orders.checkout({ customerId, idempotencyKey: 'k', paymentToken: 'tok_ok' }), Code.PERMISSION_DENIED);
      // The support key passes the scope check and reaches the order lookup.
      await expectGrpcError(support.orders.updateOrder({ order: { id: randomUUID(), status: 5 }, updateMask: ['status'] }), Code.NOT_FOUND);
      const health = new HealthClient(system.orderAddress, credentials.createInsecure());
      const serving = await new Promise<number>((resolve, reject) =>
        health.check({ service: 'larder.order.v1.OrderService' }, (error, response) => (error ? reject(error) : resolve(response.status))),
      );
      health.close();
      expect(serving).to.equal(HealthCheckResponse_ServingStatus.SERVING);
    } finally {
      for (const c of [anonymous, unknown, storefront, support]) {
        c.carts.close();
        c.orders.close();
      }
    }
  });
});
