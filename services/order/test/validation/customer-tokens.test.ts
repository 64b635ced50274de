import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status as Code } from '@grpc/grpc-js';
import { expect } from 'chai';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { OrderStatus } from '#libs/contracts/larder/order/v1/resources.js';
import { expectGrpcError } from '#test/support/grpc-errors.js';
import { describeValidationMatrix, itAnsweredNoUnknownOrInternal, type Outcome } from '#test/support/request-validation.js';
import { ORDER_ADMIN_KEY } from '../system.js';
import { address, describeOrderService, ORDER_SERVICE, rawCall, watch, type Api, type Matrix } from './harness.js';

/**
 * End-user tokens beside the API keys, against the order service as a process
 * configured with a key set made here (JWT_JWKS_FILE: an RS256 and an ES256
 * key): a token acts only for its own customer (`sub`), with the scopes of its
 * `scope` claim; every bad token is UNAUTHENTICATED with its own reason.
 */

const ISSUER = 'https://id.test.larder.invalid/';
const AUDIENCE = 'larder-order-test';
const CUSTOMER_SCOPES = 'carts orders.read orders.write';

interface Signer {
  alg: 'RS256' | 'ES256';
  kid: string;
  privateKey: CryptoKey;
}

const keys: { rs: Signer; es: Signer; impostor: Signer; stranger: Signer; rsPublicJwk: object; rsPublicPem: string } = {} as never;

/** Two keys in the service's JWKS; an impostor with the RS key's kid and a stranger with a kid it does not know. */
async function writeKeySet() {
  const [rs, es, impostor, stranger] = await Promise.all([
    generateKeyPair('RS256', { extractable: true }),
    generateKeyPair('ES256', { extractable: true }),
    generateKeyPair('RS256'),
    generateKeyPair('ES256'),
  ]);
  keys.rs = { alg: 'RS256', kid: 'test-rs', privateKey: rs.privateKey };
  keys.es = { alg: 'ES256', kid: 'test-es', privateKey: es.privateKey };
  keys.impostor = { alg: 'RS256', kid: 'test-rs', privateKey: impostor.privateKey };
  keys.stranger = { alg: 'ES256', kid: 'test-unknown', privateKey: stranger.privateKey };
  keys.rsPublicJwk = { ...(await exportJWK(rs.publicKey)), kid: 'test-rs', alg: 'RS256' };
  keys.rsPublicPem = await exportSPKI(rs.publicKey);
  const jwks = { keys: [keys.rsPublicJwk, { ...(await exportJWK(es.publicKey)), kid: 'test-es', alg: 'ES256' }] };
  const file = join(mkdtempSync(join(tmpdir(), 'larder-jwks-')), 'jwks.json');
  writeFileSync(file, JSON.stringify(jwks));
  return { orderEnv: { JWT_JWKS_FILE: file, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE } };
}

const now = () => Math.floor(Date.now() / 1000);

/** A token for `sub` with good claims (overridable), signed by `signer`. */
function mint(sub: string, overrides: JWTPayload = {}, signer: Signer = keys.rs): Promise<string> {
  const claims = { iss: ISSUER, aud: AUDIENCE, sub, scope: CUSTOMER_SCOPES, iat: now(), exp: now() + 600, ...overrides };
  return new SignJWT(claims).setProtectedHeader({ alg: signer.alg, kid: signer.kid }).sign(signer.privateKey);
}

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

describeOrderService(
  'customer tokens',
  (sut) => {
    const { apiWith } = sut;
    /** Clients holding a fresh token for `customerId`. */
    const asCustomer = async (customerId: string, overrides: JWTPayload = {}, signer?: Signer): Promise<Api> =>
      apiWith(await mint(customerId, overrides, signer));

    describe('a token acts for its own customer', () => {
      it('reads its cart and orders with customer_id omitted (RS256)', async () => {
        const { customerId, orderId, productId } = sut.fixtures;
        const customer = await asCustomer(customerId);
        expect((await customer.carts.getCart({})).cart!.items).to.deep.equal([{ productId, quantity: 2 }]);
        expect((await customer.carts.getCart({ customerId: customerId.toUpperCase() })).cart!.customerId).to.equal(customerId);
        const listed = await customer.orders.listOrders({});
        expect(listed.orders.map((o) => o.customerId)).to.deep.equal([customerId, customerId]);
        expect((await customer.orders.getOrder({ id: orderId })).order!.id).to.equal(orderId);
        expect((await customer.orders.listOrderEvents({ orderId })).events.length).to.be.greaterThan(0);
        const watched = await watch(sut.system.orderAddress, orderId, await mint(customerId), 1_000);
        expect(watched.messages[0]?.order?.id, watched.code).to.equal(orderId);
      });

      it('fills its cart, checks out, creates, lists only its own and cancels (ES256)', async () => {
        const customerId = randomUUID();
        const { productId, otherProductId } = sut.fixtures;
        const customer = await asCustomer(customerId, {}, keys.es);
        await customer.carts.addCartItem({ productId, quantity: 2 });
        await customer.carts.addCartItem({ customerId, productId: otherProductId, quantity: 1 });
        await customer.carts.updateCartItem({ productId, quantity: 3 });
        await customer.carts.removeCartItem({ productId: otherProductId });
        expect((await customer.carts.getCart({})).cart!.items).to.deep.equal([{ productId, quantity: 3 }]);
        const { order: fromCart } = await customer.orders.checkout({ idempotencyKey: 'token-cart', paymentToken: 'tok_ok' });
        expect(fromCart!.customerId).to.equal(customerId);
        const { order: explicit } = await customer.orders.createOrder({
          idempotencyKey: 'token-items',
          paymentToken: 'tok_ok',
          items: [{ productId: otherProductId, quantity: 1 }],
          shippingAddress: address(),
        });
        expect(explicit!.customerId).to.equal(customerId);
        const listed = (await customer.orders.listOrders({})).orders.map((o) => o.id);
        expect(listed.sort()).to.deep.equal([fromCart!.id, explicit!.id].sort());
        const { order: cancelled } = await customer.orders.cancelOrder({ id: explicit!.id, reason: 'changed my mind' });
        expect(cancelled!.status === OrderStatus.ORDER_STATUS_CANCELLED || cancelled!.cancelRequested).to.equal(true);
        await customer.carts.addCartItem({ productId, quantity: 1 });
        expect((await customer.carts.clearCart({})).cart!.items).to.deep.equal([]);
        const delivery = { delivery: { address: address() } };
        expect((await customer.carts.setCartFulfilment({ fulfilment: delivery })).cart!.fulfilment!.delivery!.address).to.deep.equal(
          address(),
        );
        expect((await customer.carts.setCartFulfilment({})).cart!.fulfilment).to.equal(undefined);
      });

      it("naming another customer's customer_id is PERMISSION_DENIED (CUSTOMER_MISMATCH) on every RPC that takes one, and changes nothing", async () => {
        const { customerId: victim, productId } = sut.fixtures;
        const intruder = await asCustomer(randomUUID());
        const cartBefore = (await sut.system.carts.getCart({ customerId: victim })).cart;
        const ordersBefore = (await sut.system.orders.listOrders({ customerId: victim })).orders.length;
        const pay = { paymentToken: 'tok_ok', idempotencyKey: `intruder-${randomUUID()}` };
        const calls = {
          GetCart: intruder.carts.getCart({ customerId: victim }),
          AddCartItem: intruder.carts.addCartItem({ customerId: victim, productId, quantity: 5 }),
          UpdateCartItem: intruder.carts.updateCartItem({ customerId: victim, productId, quantity: 0 }),
          RemoveCartItem: intruder.carts.removeCartItem({ customerId: victim, productId }),
          ClearCart: intruder.carts.clearCart({ customerId: victim }),
          SetCartFulfilment: intruder.carts.setCartFulfilment({ customerId: victim, fulfilment: { delivery: { address: address() } } }),
          Checkout: intruder.orders.checkout({ customerId: victim, ...pay }),
          CreateOrder: intruder.orders.createOrder({ customerId: victim, ...pay, items: [{ productId, quantity: 1 }] }),
          ListOrders: intruder.orders.listOrders({ customerId: victim }),
        };
        for (const [rpc, call] of Object.entries(calls)) {
          const { reason, info } = await expectGrpcError(call, Code.PERMISSION_DENIED);
          expect(reason, rpc).to.equal('CUSTOMER_MISMATCH');
          expect(info!.metadata.field, rpc).to.equal('customer_id');
        }
        expect((await sut.system.carts.getCart({ customerId: victim })).cart).to.deep.equal(cartBefore);
        expect((await sut.system.orders.listOrders({ customerId: victim })).orders).to.have.length(ordersBefore);
      });

      it("another customer's order is NOT_FOUND, exactly as a missing one, on GetOrder, WatchOrder, ListOrderEvents and CancelOrder", async () => {
        const { orderId } = sut.fixtures;
        const missing = randomUUID();
        const intruderToken = await mint(randomUUID());
        const intruder = apiWith(intruderToken);
        const before = (await sut.system.orders.getOrder({ id: orderId })).order!;
        for (const id of [orderId, missing]) {
          const answers = [
            await expectGrpcError(intruder.orders.getOrder({ id, showDeleted: true }), Code.NOT_FOUND),
            await expectGrpcError(intruder.orders.listOrderEvents({ orderId: id }), Code.NOT_FOUND),
            await expectGrpcError(intruder.orders.cancelOrder({ id, reason: 'not mine' }), Code.NOT_FOUND),
          ];
          for (const { reason, error } of answers) {
            expect(reason).to.equal('ORDER_NOT_FOUND');
            expect(error.details).to.equal(`order ${id} not found`);
          }
          const watched = await watch(sut.system.orderAddress, id, intruderToken);
          expect(watched.code).to.equal('NOT_FOUND');
          expect(watched.messages).to.deep.equal([]);
        }
        const after = (await sut.system.orders.getOrder({ id: orderId })).order!;
        expect(after.etag).to.equal(before.etag);
        expect(after.cancelRequested).to.equal(false);
      });

      it('API keys still act for any customer and still need customer_id', async () => {
        const storefront = apiWith('dev-storefront-key');
        const { customerId } = sut.fixtures;
        expect((await storefront.carts.getCart({ customerId })).cart!.customerId).to.equal(customerId);
        const { reason, info } = await expectGrpcError(storefront.carts.getCart({}), Code.INVALID_ARGUMENT);
        expect([reason, info!.metadata.field]).to.deep.equal(['INVALID_ARGUMENT', 'customer_id']);
      });
    });

    describe('scopes', () => {
      it('a token without the scope an RPC needs is PERMISSION_DENIED (SCOPE_MISSING)', async () => {
        const cartsOnly = await asCustomer(randomUUID(), { scope: 'carts' });
        await cartsOnly.carts.getCart({});
        for (const [call, scope] of [
          [cartsOnly.orders.listOrders({}), 'orders.read'],
          [cartsOnly.orders.checkout({ idempotencyKey: 'k', paymentToken: 'tok_ok' }), 'orders.write'],
        ] as const) {
          const { reason, info } = await expectGrpcError(call, Code.PERMISSION_DENIED);
          expect([reason, info!.metadata.scope]).to.deep.equal(['SCOPE_MISSING', scope]);
        }
        const noScope = await asCustomer(randomUUID(), { scope: undefined });
        expect((await expectGrpcError(noScope.carts.getCart({}), Code.PERMISSION_DENIED)).reason).to.equal('SCOPE_MISSING');
      });

      it('orders.admin in a token grants nothing: UpdateOrder and DeleteOrder stay with API keys', async () => {
        const { customerId, orderId } = sut.fixtures;
        const greedy = await asCustomer(customerId, { scope: `${CUSTOMER_SCOPES} orders.admin *` });
        const update = greedy.orders.updateOrder({
          order: { id: orderId, status: OrderStatus.ORDER_STATUS_SHIPPED },
          updateMask: ['status'],
        });
        for (const call of [update, greedy.orders.deleteOrder({ id: orderId })]) {
          const { reason, info } = await expectGrpcError(call, Code.PERMISSION_DENIED);
          expect([reason, info!.metadata.scope]).to.deep.equal(['SCOPE_MISSING', 'orders.admin']);
        }
        expect((await sut.system.orders.getOrder({ id: orderId })).order!.status).to.equal(OrderStatus.ORDER_STATUS_CONFIRMED);
      });
    });

    describe('bad tokens: UNAUTHENTICATED, each with its own reason', () => {
      const customer = randomUUID();
      const hs256 = (secret: string) =>
        new SignJWT({ iss: ISSUER, aud: AUDIENCE, sub: customer, scope: CUSTOMER_SCOPES, exp: now() + 600 })
          .setProtectedHeader({ alg: 'HS256', kid: 'test-rs' })
          .sign(new TextEncoder().encode(secret));
      const cases: [string, () => Promise<string>, string][] = [
        ['expired', () => mint(customer, { iat: now() - 1200, exp: now() - 600 }), 'TOKEN_EXPIRED'],
        ['not yet valid (nbf in the future)', () => mint(customer, { nbf: now() + 600 }), 'TOKEN_NOT_YET_VALID'],
        ['from another issuer', () => mint(customer, { iss: 'https://evil.invalid/' }), 'TOKEN_ISSUER_INVALID'],
        ['for another audience', () => mint(customer, { aud: 'larder-inventory' }), 'TOKEN_AUDIENCE_INVALID'],
        ['signed by another key with the same kid', () => mint(customer, {}, keys.impostor), 'TOKEN_SIGNATURE_INVALID'],
        ['with a kid the key set lacks', () => mint(customer, {}, keys.stranger), 'TOKEN_KEY_UNKNOWN'],
        [
          'alg none',
          async () => `eyJhbGciOiJub25lIn0.${base64url({ iss: ISSUER, aud: AUDIENCE, sub: customer, exp: now() + 600 })}.`,
          'TOKEN_ALGORITHM_REFUSED',
        ],
        ['HS256 with the public JWK as the secret', () => hs256(JSON.stringify(keys.rsPublicJwk)), 'TOKEN_ALGORITHM_REFUSED'],
        ['HS256 with the public PEM as the secret', () => hs256(keys.rsPublicPem), 'TOKEN_ALGORITHM_REFUSED'],
        ['malformed (three parts of garbage)', async () => 'not.a.jwt', 'TOKEN_MALFORMED'],
        ['malformed (truncated)', async () => (await mint(customer)).split('.').slice(0, 2).join('.'), 'TOKEN_MALFORMED'],
        ['with a sub that is not a UUID', () => mint('customer-42'), 'TOKEN_SUBJECT_INVALID'],
        ['without exp', () => mint(customer, { exp: undefined }), 'TOKEN_CLAIM_MISSING'],
      ];
      for (const [name, make, expected] of cases) {
        it(`${name} → ${expected}, without echoing the token`, async () => {
          const token = await make();
          const { reason, error } = await expectGrpcError(apiWith(token).carts.getCart({}), Code.UNAUTHENTICATED);
          expect(reason, error.details).to.equal(expected);
          expect(error.details).to.not.include(token);
        });
      }

      it('an expired token opens no WatchOrder stream and decodes no request', async () => {
        const token = await mint(sut.fixtures.customerId, { exp: now() - 600 });
        const watched = await watch(sut.system.orderAddress, sut.fixtures.orderId, token);
        expect([watched.code, watched.messages.length]).to.deep.equal(['UNAUTHENTICATED', 0]);
        const error = await rawCall(sut.system.orderAddress, `/${ORDER_SERVICE}/Checkout`, Buffer.from([0xff, 0xff, 0x0f]), token);
        expect(error && Code[error.code]).to.equal('UNAUTHENTICATED');
      });

      it('an unknown API key is still API_KEY_INVALID, and the admin key still works', async () => {
        const { reason } = await expectGrpcError(apiWith('not-a-key-this-service-knows').carts.getCart({}), Code.UNAUTHENTICATED);
        expect(reason).to.equal('API_KEY_INVALID');
        await apiWith(ORDER_ADMIN_KEY).orders.getOrder({ id: sut.fixtures.orderId });
      });
    });

    describe('bad input with a token', () => {
      const outcomes: Outcome[] = [];
      let api: Api;
      before(async () => {
        api = await asCustomer(sut.fixtures.customerId);
      });
      const badCustomer = { name: 'customer_id not a UUID', field: 'customer_id' };
      const matrix: Matrix = {
        GetCart: [{ ...badCustomer, call: (a) => a.carts.getCart({ customerId: 'nope' }) }],
        AddCartItem: [
          { ...badCustomer, call: (a, f) => a.carts.addCartItem({ customerId: 'nope', productId: f.productId, quantity: 1 }) },
          { name: 'quantity 0, customer_id omitted', field: 'quantity', call: (a, f) => a.carts.addCartItem({ productId: f.productId }) },
        ],
        UpdateCartItem: [{ ...badCustomer, call: (a, f) => a.carts.updateCartItem({ customerId: 'nope', productId: f.productId }) }],
        RemoveCartItem: [{ ...badCustomer, call: (a, f) => a.carts.removeCartItem({ customerId: 'nope', productId: f.productId }) }],
        ClearCart: [{ ...badCustomer, call: (a) => a.carts.clearCart({ customerId: 'nope' }) }],
        SetCartFulfilment: [
          { ...badCustomer, call: (a) => a.carts.setCartFulfilment({ customerId: 'nope' }) },
          {
            name: 'a malformed pickup location_id, customer_id omitted',
            field: 'fulfilment.pickup.location_id',
            call: (a) => a.carts.setCartFulfilment({ fulfilment: { pickup: { locationId: 'nope' } } }),
          },
        ],
        Checkout: [
          { ...badCustomer, call: (a) => a.orders.checkout({ customerId: 'nope', idempotencyKey: 'k', paymentToken: 'tok_ok' }) },
          {
            name: 'no idempotency_key, customer_id omitted',
            field: 'idempotency_key',
            call: (a) => a.orders.checkout({ paymentToken: 'tok_ok' }),
          },
        ],
        CreateOrder: [
          {
            name: 'no items, customer_id omitted',
            field: 'items',
            call: (a) => a.orders.createOrder({ idempotencyKey: 'k', paymentToken: 'tok_ok' }),
          },
        ],
        ListOrders: [{ ...badCustomer, call: (a) => a.orders.listOrders({ customerId: 'nope' }) }],
        GetOrder: [{ name: 'id not a UUID', field: 'id', call: (a) => a.orders.getOrder({ id: 'nope' }) }],
        CancelOrder: [{ name: 'id not a UUID', field: 'id', call: (a) => a.orders.cancelOrder({ id: 'nope' }) }],
        ListOrderEvents: [{ name: 'order_id not a UUID', field: 'order_id', call: (a) => a.orders.listOrderEvents({ orderId: 'nope' }) }],
      };
      describeValidationMatrix(matrix, () => ({ api, fixtures: sut.fixtures }), outcomes);
      describe('afterwards', () => itAnsweredNoUnknownOrInternal(matrix, outcomes));
    });
  },
  writeKeySet,
);
