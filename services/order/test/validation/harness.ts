import { randomUUID } from 'node:crypto';
import { Client, credentials, status as Code, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import * as cartMessages from '#libs/contracts/larder/order/v1/cart_service.js';
import { CartServiceService } from '#libs/contracts/larder/order/v1/cart_service.js';
import * as orderMessages from '#libs/contracts/larder/order/v1/order_service.js';
import { OrderServiceService, WatchOrderRequest, type WatchOrderResponse } from '#libs/contracts/larder/order/v1/order_service.js';
import { OrderStatus, type ShippingAddress } from '#libs/contracts/larder/order/v1/resources.js';
import { createPromiseClient } from '#libs/grpc/client.js';
import { errorInfoOf } from '#libs/grpc/status.js';
import { bearer, rawUnaryCall } from '#test/support/raw-grpc.js';
import {
  describeValidationMatrix,
  itAnsweredNoUnknownOrInternal,
  rowCounts,
  type Outcome,
  type ValidationMatrix,
} from '#test/support/request-validation.js';
import {
  createProduct,
  hasStatus,
  ORDER_ADMIN_KEY,
  startSystem,
  waitForOrder,
  type CartApi,
  type OrderApi,
  type SystemOptions,
  type TestSystem,
} from '../system.js';

/**
 * The order service's two gRPC services fed bad input and called with every
 * development key, both services running as processes, one file per area
 * (carts, checkout, orders, auth), each on its own system:
 *  - every CartService and OrderService RPC answers bad input with
 *    INVALID_ARGUMENT and an ErrorInfo naming the field (proto snake_case
 *    path), and none of them changes the order database;
 *  - API keys and scopes are enforced per RPC as the contract documents;
 *    health and reflection need no key.
 * This file holds what the areas share: the system and its fixtures, the raw
 * and streaming calls, and the checks made after an area's bad requests.
 */

export const CART_SERVICE = 'larder.order.v1.CartService';
export const ORDER_SERVICE = 'larder.order.v1.OrderService';

const TABLES = ['orders', 'order_items', 'order_events', 'carts', 'cart_items', 'outbox', 'simulated_charges'] as const;

export interface Api {
  carts: CartApi;
  orders: OrderApi;
}

export interface Fixtures {
  /** Products in inventory with plenty of stock. */
  productId: string;
  otherProductId: string;
  /** A customer with two CONFIRMED orders and one line in the cart. */
  customerId: string;
  /** The customer's newest order, CONFIRMED, with a shipping address. */
  orderId: string;
  /** next_page_token of ListOrders(customer, page_size 1), no filters. */
  pageToken: string;
}

export type Matrix = ValidationMatrix<Api, Fixtures>;

export const address = (overrides: Partial<ShippingAddress> = {}): ShippingAddress => ({
  recipient: 'Ada Lovelace',
  line1: 'Keizersgracht 1',
  line2: '',
  city: 'Amsterdam',
  postalCode: '1015 AA',
  countryCode: 'NL',
  ...overrides,
});

/** Sends raw bytes as the request of a method; resolves with the error (null on success). */
export function rawCall(address: string, path: string, bytes: Buffer, key = ORDER_ADMIN_KEY): Promise<ServiceError | null> {
  return rawUnaryCall(address, path, bytes, key);
}

export interface WatchOutcome {
  /** 'OK' when the stream ended normally, else the status name, or 'TIMEOUT'. */
  code: string;
  error?: ServiceError;
  messages: WatchOrderResponse[];
  elapsedMs: number;
}

/** Opens WatchOrder as a real server stream; resolves when it ends, errors, or after timeoutMs (then cancelled). */
export function watch(address: string, id: string, key: string, timeoutMs = 3_000): Promise<WatchOutcome> {
  const client = new Client(address, credentials.createInsecure());
  const method = OrderServiceService.watchOrder;
  const started = Date.now();
  const call = client.makeServerStreamRequest(
    method.path,
    method.requestSerialize,
    method.responseDeserialize,
    WatchOrderRequest.fromPartial({ id }),
    bearer(key),
    {},
  );
  const messages: WatchOrderResponse[] = [];
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: Omit<WatchOutcome, 'messages' | 'elapsedMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.close();
      resolve({ ...outcome, messages, elapsedMs: Date.now() - started });
    };
    const timer = setTimeout(() => {
      settle({ code: 'TIMEOUT' });
      call.cancel();
    }, timeoutMs);
    call.on('data', (message: WatchOrderResponse) => messages.push(message));
    call.on('error', (error: ServiceError) => settle({ code: Code[error.code]!, error }));
    call.on('end', () => settle({ code: 'OK' }));
  });
}

/** What an area's tests see once its system runs: the system, its fixtures, clients with any key. */
export interface OrderServiceContext {
  readonly system: TestSystem;
  readonly fixtures: Fixtures;
  /** Cart and order clients sending `key` (none when empty); closed with the system. */
  apiWith(key: string): Api;
}

/**
 * `order service, <area> (both services as processes)`: a system with the
 * fixtures (a customer with two CONFIRMED orders and a cart line) for all of
 * `body`'s tests, stopped after them. `systemOptions` (made when the system
 * starts, e.g. to write a key set first) adds to the processes' environment.
 */
export function describeOrderService(
  area: string,
  body: (context: OrderServiceContext) => void,
  systemOptions: () => Promise<SystemOptions> = async () => ({}),
): void {
  describe(`order service, ${area} (both services as processes)`, function () {
    this.timeout(60_000);
    let system: TestSystem;
    let fixtures: Fixtures;
    const clients: { close(): void }[] = [];

    /** Cart and order clients sending `key` (none when empty). */
    const apiWith = (key: string): Api => {
      const api = {
        carts: createPromiseClient(CartServiceService, cartMessages, system.orderAddress, { defaults: { apiKey: key } }),
        orders: createPromiseClient(OrderServiceService, orderMessages, system.orderAddress, { defaults: { apiKey: key } }),
      };
      clients.push(api.carts, api.orders);
      return api;
    };

    before(async () => {
      system = await startSystem(await systemOptions());
      const [product, other] = await Promise.all([createProduct(system, 500), createProduct(system, 500)]);
      const customerId = randomUUID();
      const ids: string[] = [];
      for (const key of ['fixture-1', 'fixture-2']) {
        const { order } = await system.orders.createOrder({
          customerId,
          items: [{ productId: product.id, quantity: 1 }],
          idempotencyKey: key,
          paymentToken: 'tok_ok',
          shippingAddress: address(),
        });
        ids.push(order!.id);
      }
      await Promise.all(ids.map((id) => waitForOrder(system, id, hasStatus(OrderStatus.ORDER_STATUS_CONFIRMED))));
      await system.carts.addCartItem({ customerId, productId: product.id, quantity: 2 });
      const page = await system.orders.listOrders({ customerId, pageSize: 1 });
      expect(page.nextPageToken).to.not.equal('');
      // The token is good: it pages on with the filters it was issued for.
      expect((await system.orders.listOrders({ customerId, pageSize: 1, pageToken: page.nextPageToken })).orders).to.have.length(1);
      fixtures = {
        productId: product.id,
        otherProductId: other.id,
        customerId,
        orderId: page.orders[0]!.id,
        pageToken: page.nextPageToken,
      };
      expect(ids).to.include(fixtures.orderId);
    });
    after(async () => {
      for (const client of clients) client.close();
      await system?.stop();
    });

    body({
      get system() {
        return system;
      },
      get fixtures() {
        return fixtures;
      },
      apiWith,
    });
  });
}

/** What an area's own validation tests (beyond its matrix) see: the system, and the outcome record. */
export interface ValidationContext {
  readonly system: TestSystem;
  readonly outcomes: Outcome[];
}

/** Bytes the protobuf decoder must refuse (MALFORMED_REQUEST), one test each. */
export function itRefusesUndecodable(context: ValidationContext, garbage: { name: string; path: string; bytes: Buffer }[]): void {
  for (const { name, path, bytes } of garbage) {
    it(`${path} with ${name} → INVALID_ARGUMENT (MALFORMED_REQUEST), not INTERNAL or UNKNOWN`, async () => {
      const error = await rawCall(context.system.orderAddress, path, bytes);
      context.outcomes.push({ name: `${path}: raw bytes with ${name}`, code: error ? Code[error.code]! : 'OK' });
      expect(error, `${path} accepted undecodable bytes`).to.not.equal(null);
      expect(Code[error!.code], error!.details).to.equal('INVALID_ARGUMENT');
      expect(errorInfoOf(error!)?.reason).to.equal('MALFORMED_REQUEST');
    });
  }
}

/**
 * An area's `request validation`: its matrix, then `more` (the area's other
 * cases, which record their codes in `outcomes`), then the checks that no case
 * was answered UNKNOWN or INTERNAL and that the order database did not change.
 */
export function describeRequestValidation(area: string, matrix: Matrix, more?: (context: ValidationContext) => void): void {
  describeOrderService(`${area} validation`, (sut) => {
    describe('request validation', () => {
      let api: Api;
      let countsBefore: Record<string, number>;
      let orderBefore: unknown;
      let cartBefore: unknown;
      /** Every case's gRPC code, to check afterwards that none was UNKNOWN or INTERNAL. */
      const outcomes: Outcome[] = [];

      const countRows = () => rowCounts(sut.system.orderDb.db, TABLES);

      before(async () => {
        const { system, fixtures } = sut;
        api = sut.apiWith(ORDER_ADMIN_KEY);
        // The saga is done with the fixture orders (CONFIRMED waits for shipping); wait for the counts to hold still.
        let previous = '';
        for (let i = 0; i < 40; i++) {
          const now = JSON.stringify(await countRows());
          if (now === previous) break;
          previous = now;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        countsBefore = await countRows();
        orderBefore = (await system.orders.getOrder({ id: fixtures.orderId })).order;
        cartBefore = (await system.carts.getCart({ customerId: fixtures.customerId })).cart;
      });

      describeValidationMatrix(matrix, () => ({ api, fixtures: sut.fixtures }), outcomes);

      more?.({
        get system() {
          return sut.system;
        },
        outcomes,
      });

      describe('afterwards', () => {
        itAnsweredNoUnknownOrInternal(matrix, outcomes);

        it('the order database did not change: same row counts, same order, same cart', async () => {
          const { system, fixtures } = sut;
          expect(await countRows()).to.deep.equal(countsBefore);
          expect((await system.orders.getOrder({ id: fixtures.orderId })).order).to.deep.equal(orderBefore);
          expect((await system.carts.getCart({ customerId: fixtures.customerId })).cart).to.deep.equal(cartBefore);
        });

        it('the service still answers valid requests', async () => {
          const { system, fixtures } = sut;
          const { orders } = await system.orders.listOrders({
            customerId: fixtures.customerId,
            status: OrderStatus.ORDER_STATUS_CONFIRMED,
          });
          expect(orders).to.have.length(2);
          const { cart } = await system.carts.getCart({ customerId: fixtures.customerId });
          expect(cart!.items).to.deep.equal([{ productId: fixtures.productId, quantity: 2 }]);
        });
      });
    });
  });
}
