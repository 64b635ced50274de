import { randomUUID } from 'node:crypto';
import { status as Code } from '@grpc/grpc-js';
import { expect } from 'chai';
import { CartServiceService } from '#libs/contracts/larder/order/v1/cart_service.js';
import { OrderServiceService } from '#libs/contracts/larder/order/v1/order_service.js';
import { OrderStatus } from '#libs/contracts/larder/order/v1/resources.js';
import { contractScopes } from '#test/support/contract-scopes.js';
import { expectGrpcError, outcomeOf } from '#test/support/grpc-errors.js';
import { describeOpenEndpoints } from '#test/support/open-endpoints.js';
import { hasStatus, ORDER_ADMIN_KEY, waitForOrder, type TestSystem } from '../system.js';
import { address, CART_SERVICE, describeOrderService, ORDER_SERVICE, rawCall, watch, type Api, type Fixtures } from './harness.js';

/**
 * The order service's API keys and scopes, enforced per RPC as the contract
 * documents, with every development key; health and reflection need no key.
 * The system and its fixtures are in harness.ts.
 */

const STOREFRONT_KEY = 'dev-storefront-key';
const SUPPORT_KEY = 'dev-order-support-key';

/** The scope each RPC needs, as the contract (cart_service.proto, order_service.proto) documents it: "Scope: <scope>." */
const CART_SCOPE_OF = contractScopes(CART_SERVICE);
const ORDER_SCOPE_OF = contractScopes(ORDER_SERVICE);

/** The development keys (config.ts) and the scopes they hold. */
const KEYS: { name: string; key: string; scopes: string[] }[] = [
  { name: 'admin', key: ORDER_ADMIN_KEY, scopes: ['*'] },
  { name: 'storefront', key: STOREFRONT_KEY, scopes: ['carts', 'orders.read', 'orders.write'] },
  { name: 'support', key: SUPPORT_KEY, scopes: ['orders.read', 'orders.admin'] },
];

type AnyCall = (request: object) => Promise<unknown>;
const rpcOf = (api: Api, rpc: string): AnyCall =>
  rpc in CartServiceService
    ? (api.carts as unknown as Record<string, AnyCall>)[rpc]!
    : (api.orders as unknown as Record<string, AnyCall>)[rpc]!;

describeOrderService('auth', (sut) => {
  let system: TestSystem;
  let fixtures: Fixtures;
  const { apiWith } = sut;
  before(() => {
    ({ system, fixtures } = sut);
  });

  describe('API keys and scopes', () => {
    let anonymous: Api;
    let stranger: Api;
    let storefront: Api;
    let support: Api;

    const expectScopeMissing = async (call: Promise<unknown>, scope: string) => {
      const { reason, info } = await expectGrpcError(call, Code.PERMISSION_DENIED);
      expect(reason).to.equal('SCOPE_MISSING');
      expect(info!.metadata.scope).to.equal(scope);
    };

    before(() => {
      anonymous = apiWith('');
      stranger = apiWith('not-a-key-this-service-knows');
      storefront = apiWith(STOREFRONT_KEY);
      support = apiWith(SUPPORT_KEY);
    });

    describe('authentication', () => {
      it('refuses a call without authorization metadata: UNAUTHENTICATED, API_KEY_MISSING', async () => {
        const customerId = fixtures.customerId;
        expect((await expectGrpcError(anonymous.carts.getCart({ customerId }), Code.UNAUTHENTICATED)).reason).to.equal('API_KEY_MISSING');
        expect((await expectGrpcError(anonymous.orders.listOrders({ customerId }), Code.UNAUTHENTICATED)).reason).to.equal(
          'API_KEY_MISSING',
        );
      });

      it('refuses an unknown key: UNAUTHENTICATED, API_KEY_INVALID, without echoing the key', async () => {
        const { reason, error } = await expectGrpcError(stranger.orders.getOrder({ id: fixtures.orderId }), Code.UNAUTHENTICATED);
        expect(reason).to.equal('API_KEY_INVALID');
        expect(error.details).to.not.include('not-a-key-this-service-knows');
        expect((await expectGrpcError(stranger.carts.getCart({ customerId: fixtures.customerId }), Code.UNAUTHENTICATED)).reason).to.equal(
          'API_KEY_INVALID',
        );
      });

      it('refuses a key of the inventory service', async () => {
        const inventoryKey = apiWith('dev-inventory-admin-key');
        expect((await expectGrpcError(inventoryKey.orders.getOrder({ id: fixtures.orderId }), Code.UNAUTHENTICATED)).reason).to.equal(
          'API_KEY_INVALID',
        );
      });

      it('without a key, WatchOrder is UNAUTHENTICATED and sends nothing', async () => {
        const outcome = await watch(system.orderAddress, fixtures.orderId, '');
        expect(outcome.code).to.equal('UNAUTHENTICATED');
        expect(outcome.messages).to.deep.equal([]);
      });

      it('checks the key before decoding: undecodable bytes without a key are UNAUTHENTICATED', async () => {
        const error = await rawCall(system.orderAddress, `/${ORDER_SERVICE}/Checkout`, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]), '');
        expect(error && Code[error.code]).to.equal('UNAUTHENTICATED');
      });
    });

    describe('storefront key (carts, orders.read, orders.write)', () => {
      it('uses its cart, checks out, reads, lists and cancels its order', async () => {
        const customerId = randomUUID();
        const { productId, otherProductId } = fixtures;
        await storefront.carts.addCartItem({ customerId, productId, quantity: 2 });
        await storefront.carts.addCartItem({ customerId, productId: otherProductId, quantity: 1 });
        await storefront.carts.updateCartItem({ customerId, productId, quantity: 3 });
        await storefront.carts.removeCartItem({ customerId, productId: otherProductId });
        expect((await storefront.carts.getCart({ customerId })).cart!.items).to.deep.equal([{ productId, quantity: 3 }]);
        const { order } = await storefront.orders.checkout({ customerId, idempotencyKey: 'storefront-1', paymentToken: 'tok_ok' });
        expect(order!.customerId).to.equal(customerId);
        expect((await storefront.orders.getOrder({ id: order!.id })).order!.id).to.equal(order!.id);
        expect((await storefront.orders.listOrders({ customerId })).orders.map((o) => o.id)).to.deep.equal([order!.id]);
        expect((await storefront.orders.listOrderEvents({ orderId: order!.id })).events.length).to.be.greaterThan(0);
        const { order: cancelled } = await storefront.orders.cancelOrder({ id: order!.id, reason: 'storefront test' });
        expect(
          cancelled!.status === OrderStatus.ORDER_STATUS_CANCELLED || cancelled!.cancelRequested,
          OrderStatus[cancelled!.status],
        ).to.equal(true);
        await storefront.carts.addCartItem({ customerId, productId, quantity: 1 });
        expect((await storefront.carts.clearCart({ customerId })).cart!.items).to.deep.equal([]);
      });

      it('may not UpdateOrder or DeleteOrder (PERMISSION_DENIED, SCOPE_MISSING), and changes nothing', async () => {
        const before = (await system.orders.getOrder({ id: fixtures.orderId })).order!;
        await expectScopeMissing(
          storefront.orders.updateOrder({
            order: { id: fixtures.orderId, status: OrderStatus.ORDER_STATUS_SHIPPED },
            updateMask: ['status'],
          }),
          'orders.admin',
        );
        await expectScopeMissing(storefront.orders.deleteOrder({ id: fixtures.orderId }), 'orders.admin');
        const after = (await system.orders.getOrder({ id: fixtures.orderId })).order!;
        expect(after.etag).to.equal(before.etag);
        expect(after.status).to.equal(OrderStatus.ORDER_STATUS_CONFIRMED);
        expect(after.deleteTime).to.equal(undefined);
      });

      it('is refused for lack of scope even when the request is also invalid (scope before validation)', async () => {
        await expectScopeMissing(storefront.orders.updateOrder({}), 'orders.admin');
        await expectScopeMissing(storefront.orders.deleteOrder({ id: 'nope' }), 'orders.admin');
      });
    });

    describe('support key (orders.read, orders.admin)', () => {
      it('reads orders and moves one forward with UpdateOrder', async () => {
        const { order } = await support.orders.getOrder({ id: fixtures.orderId });
        expect(order!.status).to.equal(OrderStatus.ORDER_STATUS_CONFIRMED);
        await support.orders.listOrders({ customerId: fixtures.customerId });
        const { order: updated } = await support.orders.updateOrder({
          order: { id: fixtures.orderId, shippingAddress: address({ city: 'Utrecht' }), etag: order!.etag },
          updateMask: ['shipping_address'],
        });
        expect(updated!.shippingAddress!.city).to.equal('Utrecht');
        const { order: shipped } = await support.orders.updateOrder({
          order: { id: fixtures.orderId, status: OrderStatus.ORDER_STATUS_SHIPPED },
          updateMask: ['status'],
        });
        expect(shipped!.status).to.equal(OrderStatus.ORDER_STATUS_SHIPPED);
      });

      it('may not AddCartItem or Checkout (PERMISSION_DENIED, SCOPE_MISSING), and changes nothing', async () => {
        const customerId = fixtures.customerId;
        const cartBefore = (await system.carts.getCart({ customerId })).cart;
        const ordersBefore = (await system.orders.listOrders({ customerId })).orders.length;
        await expectScopeMissing(support.carts.addCartItem({ customerId, productId: fixtures.productId, quantity: 1 }), 'carts');
        await expectScopeMissing(
          support.orders.checkout({ customerId, idempotencyKey: `support-${randomUUID()}`, paymentToken: 'tok_ok' }),
          'orders.write',
        );
        expect((await system.carts.getCart({ customerId })).cart).to.deep.equal(cartBefore);
        expect((await system.orders.listOrders({ customerId })).orders).to.have.length(ordersBefore);
      });
    });

    describe("admin key ('*')", () => {
      it('can call every RPC', async () => {
        const admin = apiWith(ORDER_ADMIN_KEY);
        const customerId = randomUUID();
        const { productId, otherProductId } = fixtures;
        await admin.carts.getCart({ customerId });
        await admin.carts.addCartItem({ customerId, productId, quantity: 1 });
        await admin.carts.addCartItem({ customerId, productId: otherProductId, quantity: 1 });
        await admin.carts.updateCartItem({ customerId, productId, quantity: 2 });
        await admin.carts.removeCartItem({ customerId, productId: otherProductId });
        const { order: fromCart } = await admin.orders.checkout({
          customerId,
          idempotencyKey: 'admin-cart',
          paymentToken: 'tok_ok',
          shippingAddress: address(),
        });
        await admin.carts.addCartItem({ customerId, productId, quantity: 1 });
        await admin.carts.clearCart({ customerId });
        const { order: explicit } = await admin.orders.createOrder({
          customerId,
          items: [{ productId: otherProductId, quantity: 1 }],
          idempotencyKey: 'admin-items',
          paymentToken: 'tok_ok',
        });
        await admin.orders.cancelOrder({ id: explicit!.id, reason: 'admin test' });
        await waitForOrder(system, fromCart!.id, hasStatus(OrderStatus.ORDER_STATUS_CONFIRMED));
        await admin.orders.updateOrder({ order: { id: fromCart!.id, status: OrderStatus.ORDER_STATUS_SHIPPED }, updateMask: ['status'] });
        await admin.orders.updateOrder({ order: { id: fromCart!.id, status: OrderStatus.ORDER_STATUS_DELIVERED }, updateMask: ['status'] });
        const watched = await watch(system.orderAddress, fromCart!.id, ORDER_ADMIN_KEY);
        expect(watched.code).to.equal('OK');
        expect(watched.messages.map((m) => m.order!.status)).to.deep.equal([OrderStatus.ORDER_STATUS_DELIVERED]);
        const { order: deleted } = await admin.orders.deleteOrder({ id: fromCart!.id });
        expect(deleted!.deleteTime).to.not.equal(undefined);
        await admin.orders.getOrder({ id: fromCart!.id, showDeleted: true });
        expect((await admin.orders.listOrders({ customerId, showDeleted: true })).orders).to.have.length(2);
        expect((await admin.orders.listOrderEvents({ orderId: fromCart!.id })).events.length).to.be.greaterThan(3);
      });
    });

    describe('every RPC × every key', () => {
      const unary = [...Object.keys(CART_SCOPE_OF), ...Object.keys(ORDER_SCOPE_OF).filter((rpc) => rpc !== 'watchOrder')];
      const scopeOf = (rpc: string) => ({ ...CART_SCOPE_OF, ...ORDER_SCOPE_OF })[rpc]!;

      it('covers every RPC of both services', () => {
        expect(Object.keys(CART_SCOPE_OF).sort()).to.deep.equal(Object.keys(CartServiceService).sort());
        expect(Object.keys(ORDER_SCOPE_OF).sort()).to.deep.equal(Object.keys(OrderServiceService).sort());
      });

      it('without a key or with an unknown one, every RPC is UNAUTHENTICATED', async () => {
        for (const api of [anonymous, stranger]) {
          const outcomes = await Promise.all(unary.map(async (rpc) => [rpc, await outcomeOf(rpcOf(api, rpc)({}))] as const));
          expect(Object.fromEntries(outcomes)).to.deep.equal(Object.fromEntries(unary.map((rpc) => [rpc, 'UNAUTHENTICATED'])));
        }
      });

      for (const { name, key, scopes } of KEYS) {
        it(`${name}: PERMISSION_DENIED exactly for the RPCs outside ${scopes.join(', ')}`, async () => {
          const api = apiWith(key);
          // An empty request: refused by validation when the scope is held, refused by auth when not.
          const outcomes = await Promise.all(unary.map(async (rpc) => [rpc, await outcomeOf(rpcOf(api, rpc)({}))] as const));
          const allowed = (rpc: string) => scopes.includes('*') || scopes.includes(scopeOf(rpc));
          const denied = outcomes.filter(([, outcome]) => outcome === 'PERMISSION_DENIED').map(([rpc]) => rpc);
          expect(denied.sort()).to.deep.equal(unary.filter((rpc) => !allowed(rpc)).sort());
          for (const [rpc, outcome] of outcomes) {
            if (allowed(rpc)) expect(outcome, rpc).to.equal('INVALID_ARGUMENT');
          }
          const watched = await watch(system.orderAddress, '', key);
          expect(watched.code, 'WatchOrder').to.equal(allowed('watchOrder') ? 'INVALID_ARGUMENT' : 'PERMISSION_DENIED');
        });
      }
    });

    describeOpenEndpoints({
      address: () => system.orderAddress,
      services: [ORDER_SERVICE, CART_SERVICE],
      descriptorIncludes: ['larder/order/v1/order_service.proto', 'idempotency_key'],
    });
  });
});
