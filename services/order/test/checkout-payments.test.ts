import { randomUUID } from 'node:crypto';
import { Client, credentials, Metadata, status as Code, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { OrderServiceService, WatchOrderRequest, type WatchOrderResponse } from '#libs/contracts/larder/order/v1/order_service.js';
import { OrderStatus, PaymentStatus, type Order, type ShippingAddress } from '#libs/contracts/larder/order/v1/resources.js';
import { delay } from '#test/support/free-port.js';
import { expectGrpcError } from '#test/support/grpc-errors.js';
import {
  ORDER_ADMIN_KEY,
  TERMINAL,
  chargesOf,
  createProduct,
  hasStatus,
  inventoryViolations,
  startSystem,
  stockOf,
  waitForOrder,
  type TestSystem,
} from './system.js';

/** The system's PAYMENT_MAX_ATTEMPTS (system.ts default; this file does not override it). */
const PAYMENT_MAX_ATTEMPTS = 3;

const S = OrderStatus;

const ADDRESS: ShippingAddress = {
  recipient: 'Ada Lovelace',
  line1: 'Keizersgracht 1',
  line2: '',
  city: 'Amsterdam',
  postalCode: '1015 AA',
  countryCode: 'NL',
};

/** Where each status sits along the saga; terminal outcomes come last. */
const SAGA_RANK: Record<number, number> = {
  [S.ORDER_STATUS_PENDING]: 1,
  [S.ORDER_STATUS_AWAITING_STOCK]: 2,
  [S.ORDER_STATUS_RESERVED]: 3,
  [S.ORDER_STATUS_CONFIRMED]: 4,
  [S.ORDER_STATUS_SHIPPED]: 5,
  [S.ORDER_STATUS_DELIVERED]: 6,
  [S.ORDER_STATUS_CANCELLED]: 6,
  [S.ORDER_STATUS_FAILED]: 6,
};

const names = (statuses: OrderStatus[]) => statuses.map((s) => OrderStatus[s]);

interface Watch {
  messages: WatchOrderResponse[];
  /** Whether the server ended the stream (OK) already. */
  ended(): boolean;
  /** Resolves when the server ends the stream; rejects on an error or after timeoutMs. */
  done: Promise<WatchOrderResponse[]>;
  cancel(): void;
}

/** Opens WatchOrder as a real gRPC server stream and collects its messages until it ends (bounded). */
function watchOrder(system: TestSystem, id: string, timeoutMs = 15_000): Watch {
  const client = new Client(system.orderAddress, credentials.createInsecure());
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${ORDER_ADMIN_KEY}`);
  const method = OrderServiceService.watchOrder;
  const call = client.makeServerStreamRequest(
    method.path,
    method.requestSerialize,
    method.responseDeserialize,
    WatchOrderRequest.fromPartial({ id }),
    metadata,
    {},
  );
  const messages: WatchOrderResponse[] = [];
  let ended = false;
  const done = new Promise<WatchOrderResponse[]>((resolve, reject) => {
    const timer = setTimeout(() => {
      call.cancel();
      client.close();
      const message = `WatchOrder ${id} did not end within ${timeoutMs} ms (no status received); saw ${JSON.stringify(names(statusesOf(messages)))}`;
      reject(Object.assign(new Error(message), { details: message }));
    }, timeoutMs);
    call.on('data', (message: WatchOrderResponse) => messages.push(message));
    call.on('error', (error: ServiceError) => {
      clearTimeout(timer);
      client.close();
      if (error.code !== Code.CANCELLED) reject(error);
    });
    call.on('end', () => {
      ended = true;
      clearTimeout(timer);
      client.close();
      resolve(messages);
    });
  });
  done.catch(() => undefined); // observed by the test; avoid an unhandled rejection if it is not awaited
  return {
    messages,
    ended: () => ended,
    done,
    cancel: () => call.cancel(),
  };
}

/** The statuses a watch reported: the first message's order, then each log entry's target status. */
function statusesOf(messages: WatchOrderResponse[]): OrderStatus[] {
  return messages.map((m) => (m.event ? m.event.toStatus : m.order!.status));
}

function expectSagaOrder(statuses: OrderStatus[], terminal: OrderStatus): void {
  expect(statuses.length, 'at least one message').to.be.greaterThan(0);
  expect(OrderStatus[statuses.at(-1)!], `last of ${JSON.stringify(names(statuses))}`).to.equal(OrderStatus[terminal]);
  for (let i = 1; i < statuses.length; i++) {
    // WatchOrder reads the log position before the order, so a change committed between the two
    // reads comes again as the first event (watch-order.ts): the one repeat the stream may hold.
    const rank = SAGA_RANK[statuses[i]!]!;
    const before = SAGA_RANK[statuses[i - 1]!]!;
    if (i === 1) expect(rank, `saga order of ${JSON.stringify(names(statuses))}`).to.be.at.least(before);
    else expect(rank, `saga order of ${JSON.stringify(names(statuses))}`).to.be.greaterThan(before);
  }
}

describe('checkout payments, idempotency and order management (both services as processes)', function () {
  this.timeout(60_000);
  let system: TestSystem;
  before(async () => {
    // Ephemeral metrics ports: other systems (other test files, other runs) may be up at the same time.
    system = await startSystem({ inventoryEnv: { METRICS_PORT: '0' }, orderEnv: { METRICS_PORT: '0' } });
  });
  after(async () => system?.stop());
  afterEach(async () => expect(await inventoryViolations(system)).to.deep.equal([]));

  /** A fresh customer whose cart holds `quantity` of a new product with `stock` units. */
  async function cartWith(stock: number, quantity: number, price = 250) {
    const product = await createProduct(system, stock, price);
    const customerId = randomUUID();
    await system.carts.addCartItem({ customerId, productId: product.id, quantity });
    return { product, customerId };
  }

  async function logOf(orderId: string) {
    return (await system.orders.listOrderEvents({ orderId })).events;
  }

  describe('payment outcomes', () => {
    it('tok_unavailable: retries the charge, then CANCELLED with the stock back and nothing charged', async () => {
      const { product, customerId } = await cartWith(10, 2);
      const { order } = await system.orders.checkout({ customerId, idempotencyKey: 'unavailable', paymentToken: 'tok_unavailable' });
      const cancelled = await waitForOrder(system, order!.id, hasStatus(S.ORDER_STATUS_CANCELLED));
      expect(cancelled.cancelReason).to.match(/payment unavailable/i);
      expect(cancelled.cancelReason).to.include(`${PAYMENT_MAX_ATTEMPTS} attempts`);
      expect(cancelled.paymentStatus).to.not.equal(PaymentStatus.PAYMENT_STATUS_CAPTURED);
      expect(await stockOf(system, product.id)).to.include({ available: 10, reserved: 0, sold: 0 });
      expect(await chargesOf(system, order!.id)).to.deep.equal([]);
      // Asked once per attempt, each answered "unavailable" (nothing taken), then no more.
      expect(system.paymentCalls(order!.id)).to.deep.equal(Array.from({ length: PAYMENT_MAX_ATTEMPTS }, () => 'charge:unavailable'));
      const log = await logOf(order!.id);
      expect(names(log.map((e) => e.toStatus))).to.deep.equal(['ORDER_STATUS_PENDING', 'ORDER_STATUS_RESERVED', 'ORDER_STATUS_CANCELLED']);
      expect(log.at(-1)!.reason).to.match(/payment unavailable/i);
    });

    it('tok_timeout: the unknown outcome is looked up, charged once, CONFIRMED', async () => {
      const { product, customerId } = await cartWith(10, 3, 120);
      const { order } = await system.orders.checkout({ customerId, idempotencyKey: 'timeout', paymentToken: 'tok_timeout' });
      const confirmed = await waitForOrder(system, order!.id, hasStatus(S.ORDER_STATUS_CONFIRMED, S.ORDER_STATUS_CANCELLED));
      expect(OrderStatus[confirmed.status]).to.equal('ORDER_STATUS_CONFIRMED');
      expect(confirmed.paymentStatus).to.equal(PaymentStatus.PAYMENT_STATUS_CAPTURED);
      expect(confirmed.total).to.deep.equal({ currencyCode: 'EUR', minorUnits: 360 });
      expect(await chargesOf(system, order!.id)).to.deep.equal([{ status: 'captured' }]);
      // At the gateway: one charge, its unknown outcome looked up (not charged again) before confirming.
      expect(system.paymentCalls(order!.id)).to.deep.equal(['charge:unknown', 'lookup:captured']);
      expect(await stockOf(system, product.id)).to.include({ available: 7, reserved: 0, sold: 3 });
      // Nothing happens later that would charge again.
      await delay(500);
      expect(system.paymentCalls(order!.id)).to.deep.equal(['charge:unknown', 'lookup:captured']);
    });
  });

  describe('idempotency and carts', () => {
    it('same key → same order; the cart is cleared only when an order is created; new key + empty cart → CART_EMPTY; other token → IDEMPOTENCY_KEY_REUSED', async () => {
      const { product, customerId } = await cartWith(20, 2);
      const first = (await system.orders.checkout({ customerId, idempotencyKey: 'k1', paymentToken: 'tok_ok' })).order!;
      expect((await system.carts.getCart({ customerId })).cart!.items).to.deep.equal([]);

      // The cart fills again; repeating k1 returns the first order and leaves the cart alone.
      await system.carts.addCartItem({ customerId, productId: product.id, quantity: 5 });
      const repeat = (await system.orders.checkout({ customerId, idempotencyKey: 'k1', paymentToken: 'tok_ok' })).order!;
      expect(repeat.id).to.equal(first.id);
      expect(repeat.items.map((i) => i.quantity)).to.deep.equal([2]);
      expect((await system.carts.getCart({ customerId })).cart!.items).to.deep.equal([{ productId: product.id, quantity: 5 }]);

      // k1 with another payment token is refused, the cart still untouched.
      const reused = await expectGrpcError(
        system.orders.checkout({ customerId, idempotencyKey: 'k1', paymentToken: 'tok_decline' }),
        Code.ALREADY_EXISTS,
      );
      expect(reused.reason).to.equal('IDEMPOTENCY_KEY_REUSED');
      expect((await system.carts.getCart({ customerId })).cart!.items).to.deep.equal([{ productId: product.id, quantity: 5 }]);

      // A new key orders the refilled cart and clears it.
      const second = (await system.orders.checkout({ customerId, idempotencyKey: 'k2', paymentToken: 'tok_ok' })).order!;
      expect(second.id).to.not.equal(first.id);
      expect(second.items.map((i) => i.quantity)).to.deep.equal([5]);
      expect((await system.carts.getCart({ customerId })).cart!.items).to.deep.equal([]);

      // Yet another new key now meets an empty cart.
      const empty = await expectGrpcError(
        system.orders.checkout({ customerId, idempotencyKey: 'k3', paymentToken: 'tok_ok' }),
        Code.FAILED_PRECONDITION,
      );
      expect(empty.reason).to.equal('CART_EMPTY');

      const listed = (await system.orders.listOrders({ customerId })).orders;
      expect(listed.map((o) => o.id)).to.deep.equal([second.id, first.id]);
      await waitForOrder(system, first.id, hasStatus(S.ORDER_STATUS_CONFIRMED));
      await waitForOrder(system, second.id, hasStatus(S.ORDER_STATUS_CONFIRMED));
      expect(await stockOf(system, product.id)).to.include({ available: 13, reserved: 0, sold: 7 });
    });

    it('20 concurrent Checkouts with one key make one order', async () => {
      const { product, customerId } = await cartWith(10, 4);
      const responses = await Promise.all(
        Array.from({ length: 20 }, () => system.orders.checkout({ customerId, idempotencyKey: 'concurrent', paymentToken: 'tok_ok' })),
      );
      const ids = new Set(responses.map((r) => r.order!.id));
      expect(ids.size).to.equal(1);
      const [id] = [...ids];
      expect((await system.orders.listOrders({ customerId })).orders.map((o) => o.id)).to.deep.equal([id]);
      expect((await system.carts.getCart({ customerId })).cart!.items).to.deep.equal([]);
      await waitForOrder(system, id!, hasStatus(S.ORDER_STATUS_CONFIRMED));
      expect(await stockOf(system, product.id)).to.include({ available: 6, reserved: 0, sold: 4 });
      expect(await chargesOf(system, id!)).to.deep.equal([{ status: 'captured' }]);
      expect(system.paymentCalls(id!)).to.deep.equal(['charge:captured']);
    });

    it('10 concurrent Checkouts of one cart with different keys: one order, the others CART_EMPTY', async () => {
      const { product, customerId } = await cartWith(10, 3);
      const settled = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) => system.orders.checkout({ customerId, idempotencyKey: `race-${i}`, paymentToken: 'tok_ok' })),
      );
      const ok = settled.filter((s) => s.status === 'fulfilled');
      const failed = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
      expect(ok).to.have.length(1);
      expect(failed).to.have.length(9);
      for (const f of failed) {
        const { reason } = await expectGrpcError(Promise.reject(f.reason), Code.FAILED_PRECONDITION);
        expect(reason).to.equal('CART_EMPTY');
      }
      const orders = (await system.orders.listOrders({ customerId })).orders;
      expect(orders).to.have.length(1);
      await waitForOrder(system, orders[0]!.id, hasStatus(S.ORDER_STATUS_CONFIRMED));
      expect(await stockOf(system, product.id)).to.include({ available: 7, reserved: 0, sold: 3 });
    });
  });

  describe('CreateOrder', () => {
    it('orders explicit items at the prices inventory has when it reserves', async () => {
      const product = await createProduct(system, 10, 300);
      const customerId = randomUUID();
      const first = (
        await system.orders.createOrder({
          customerId,
          idempotencyKey: 'price-1',
          paymentToken: 'tok_ok',
          items: [{ productId: product.id, quantity: 2 }],
        })
      ).order!;
      const firstConfirmed = await waitForOrder(system, first.id, hasStatus(S.ORDER_STATUS_CONFIRMED));
      expect(firstConfirmed.items).to.deep.equal([
        { productId: product.id, quantity: 2, unitPrice: { currencyCode: 'EUR', minorUnits: 300 } },
      ]);
      expect(firstConfirmed.total).to.deep.equal({ currencyCode: 'EUR', minorUnits: 600 });

      await system.inventory.updateProduct({
        product: { id: product.id, price: { currencyCode: 'EUR', minorUnits: 450 } },
        updateMask: ['price'],
      });

      const second = (
        await system.orders.createOrder({
          customerId,
          idempotencyKey: 'price-2',
          paymentToken: 'tok_ok',
          items: [{ productId: product.id, quantity: 3 }],
        })
      ).order!;
      const secondConfirmed = await waitForOrder(system, second.id, hasStatus(S.ORDER_STATUS_CONFIRMED));
      expect(secondConfirmed.items).to.deep.equal([
        { productId: product.id, quantity: 3, unitPrice: { currencyCode: 'EUR', minorUnits: 450 } },
      ]);
      expect(secondConfirmed.total).to.deep.equal({ currencyCode: 'EUR', minorUnits: 1350 });
      // The first order keeps the price it was reserved at.
      expect((await system.orders.getOrder({ id: first.id })).order!.total).to.deep.equal({ currencyCode: 'EUR', minorUnits: 600 });
      expect(await stockOf(system, product.id)).to.include({ available: 5, reserved: 0, sold: 5 });
    });
  });

  describe('the order log', () => {
    it('lists every transition with reasons, sequences 1..n, ascending times and the Checkout correlation id', async () => {
      for (const token of ['tok_ok', 'tok_decline']) {
        const { customerId } = await cartWith(10, 1);
        const correlationId = `corr-${randomUUID()}`;
        const { order } = await system.orders.checkout(
          { customerId, idempotencyKey: `log-${token}`, paymentToken: token },
          { correlationId },
        );
        expect(OrderStatus[order!.status], 'status right after checkout').to.equal('ORDER_STATUS_RESERVED');
        const done = await waitForOrder(system, order!.id, hasStatus(S.ORDER_STATUS_CONFIRMED, S.ORDER_STATUS_CANCELLED));
        const log = await logOf(order!.id);
        const expected = token === 'tok_ok' ? 'ORDER_STATUS_CONFIRMED' : 'ORDER_STATUS_CANCELLED';
        expect(OrderStatus[done.status]).to.equal(expected);
        expect(names(log.map((e) => e.toStatus))).to.deep.equal(['ORDER_STATUS_PENDING', 'ORDER_STATUS_RESERVED', expected]);
        expect(log.map((e) => e.sequence)).to.deep.equal(log.map((_, i) => i + 1));
        expect(OrderStatus[log[0]!.fromStatus]).to.equal('ORDER_STATUS_UNSPECIFIED');
        for (let i = 0; i < log.length; i++) {
          const event = log[i]!;
          expect(event.orderId).to.equal(order!.id);
          expect(event.reason, `reason of entry ${event.sequence}`).to.be.a('string').and.not.equal('');
          expect(event.correlationId, `correlation id of entry ${event.sequence} (${OrderStatus[event.toStatus]})`).to.equal(correlationId);
          expect(event.createTime).to.be.instanceOf(Date);
          if (i > 0) {
            expect(event.fromStatus).to.equal(log[i - 1]!.toStatus);
            expect(event.createTime!.getTime()).to.be.at.least(log[i - 1]!.createTime!.getTime());
          }
        }
        if (token === 'tok_decline') expect(log.at(-1)!.reason).to.equal('payment declined');
        // One charge each; a decline is final (never charged again).
        expect(system.paymentCalls(order!.id)).to.deep.equal([token === 'tok_ok' ? 'charge:captured' : 'charge:declined']);
      }
    });
  });

  describe('WatchOrder', () => {
    it('streams a declined order to CANCELLED and ends by itself', async () => {
      const { customerId } = await cartWith(10, 1);
      const { order } = await system.orders.checkout({ customerId, idempotencyKey: 'watch-decline', paymentToken: 'tok_decline' });
      const watch = watchOrder(system, order!.id);
      const messages = await watch.done;
      expect(messages[0]!.event).to.equal(undefined);
      expect(messages.every((m) => m.order!.id === order!.id)).to.equal(true);
      expectSagaOrder(statusesOf(messages), S.ORDER_STATUS_CANCELLED);
      expect(OrderStatus[messages.at(-1)!.order!.status]).to.equal('ORDER_STATUS_CANCELLED');
    });

    it('streams CONFIRMED → SHIPPED → DELIVERED and ends after DELIVERED', async () => {
      const { customerId } = await cartWith(10, 1);
      const { order } = await system.orders.checkout({ customerId, idempotencyKey: 'watch-ship', paymentToken: 'tok_ok' });
      const watch = watchOrder(system, order!.id);
      try {
        const confirmed = await waitForOrder(system, order!.id, hasStatus(S.ORDER_STATUS_CONFIRMED));
        // The address is set through UpdateOrder (the checkout had none).
        const addressed = (
          await system.orders.updateOrder({
            order: { id: order!.id, shippingAddress: ADDRESS, etag: confirmed.etag },
            updateMask: ['shipping_address'],
          })
        ).order!;
        expect(addressed.shippingAddress).to.deep.equal(ADDRESS);
        const shipped = (
          await system.orders.updateOrder({ order: { id: order!.id, status: S.ORDER_STATUS_SHIPPED }, updateMask: ['status'] })
        ).order!;
        expect(OrderStatus[shipped.status]).to.equal('ORDER_STATUS_SHIPPED');
        await delay(300);
        expect(watch.ended(), 'the stream stays open while the order is SHIPPED').to.equal(false);
        const delivered = (
          await system.orders.updateOrder({ order: { id: order!.id, status: S.ORDER_STATUS_DELIVERED }, updateMask: ['status'] })
        ).order!;
        expect(OrderStatus[delivered.status]).to.equal('ORDER_STATUS_DELIVERED');
        const messages = await watch.done;
        const statuses = statusesOf(messages);
        expectSagaOrder(statuses, S.ORDER_STATUS_DELIVERED);
        expect(names(statuses)).to.include.members(['ORDER_STATUS_SHIPPED', 'ORDER_STATUS_DELIVERED']);
        const log = await logOf(order!.id);
        expect(names(log.map((e) => e.toStatus))).to.deep.equal([
          'ORDER_STATUS_PENDING',
          'ORDER_STATUS_RESERVED',
          'ORDER_STATUS_CONFIRMED',
          'ORDER_STATUS_SHIPPED',
          'ORDER_STATUS_DELIVERED',
        ]);
      } finally {
        if (!watch.ended()) watch.cancel();
      }
    });
    it('a watch opened while the order reaches its terminal status still ends', async () => {
      // The handler reads the order, then the log: a transition landing between the two must not be lost.
      const product = await createProduct(system, 100);
      const customerId = randomUUID();
      const ids = await Promise.all(
        Array.from({ length: 16 }, async (_, i) => {
          const { order } = await system.orders.createOrder({
            customerId,
            idempotencyKey: `watch-race-${i}`,
            paymentToken: 'tok_ok',
            shippingAddress: ADDRESS,
            items: [{ productId: product.id, quantity: 1 }],
          });
          return order!.id;
        }),
      );
      await Promise.all(ids.map((id) => waitForOrder(system, id, hasStatus(S.ORDER_STATUS_CONFIRMED))));
      await Promise.all(
        ids.map((id) => system.orders.updateOrder({ order: { id, status: S.ORDER_STATUS_SHIPPED }, updateMask: ['status'] })),
      );
      const outcomes = await Promise.all(
        ids.map(async (id, i) => {
          const watch = watchOrder(system, id, 3_000);
          await delay(i % 4);
          await system.orders.updateOrder({ order: { id, status: S.ORDER_STATUS_DELIVERED }, updateMask: ['status'] });
          try {
            expectSagaOrder(statusesOf(await watch.done), S.ORDER_STATUS_DELIVERED);
            return 'ended';
          } catch (error) {
            const now = (await system.orders.getOrder({ id })).order!;
            return `${id}: saw ${JSON.stringify(names(statusesOf(watch.messages)))} while the order is ${OrderStatus[now.status]}: ${(error as Error).message.slice(0, 60)}`;
          }
        }),
      );
      expect(outcomes.filter((o) => o !== 'ended')).to.deep.equal([]);
    });

    it('refuses a malformed id (INVALID_ARGUMENT) and an unknown one (NOT_FOUND)', async () => {
      const malformed = await expectGrpcError(watchOrder(system, 'not-a-uuid', 3_000).done, Code.INVALID_ARGUMENT);
      expect(malformed.field).to.equal('id');
      await expectGrpcError(watchOrder(system, randomUUID(), 3_000).done, Code.NOT_FOUND);
    });
  });

  describe('UpdateOrder and DeleteOrder', () => {
    async function confirmedOrder(key: string, shippingAddress?: ShippingAddress): Promise<Order> {
      const { customerId } = await cartWith(10, 1);
      const { order } = await system.orders.checkout({ customerId, idempotencyKey: key, paymentToken: 'tok_ok', shippingAddress });
      return waitForOrder(system, order!.id, hasStatus(S.ORDER_STATUS_CONFIRMED));
    }

    async function cancelledOrder(key: string): Promise<Order> {
      const { customerId } = await cartWith(10, 1);
      const { order } = await system.orders.checkout({
        customerId,
        idempotencyKey: key,
        paymentToken: 'tok_decline',
        shippingAddress: ADDRESS,
      });
      return waitForOrder(system, order!.id, hasStatus(S.ORDER_STATUS_CANCELLED));
    }

    it('refuses DELIVERED before SHIPPED and SHIPPED for a CANCELLED order', async () => {
      const confirmed = await confirmedOrder('upd-illegal', ADDRESS);
      const early = await expectGrpcError(
        system.orders.updateOrder({ order: { id: confirmed.id, status: S.ORDER_STATUS_DELIVERED }, updateMask: ['status'] }),
        Code.FAILED_PRECONDITION,
      );
      expect(early.reason).to.equal('ILLEGAL_ORDER_TRANSITION');
      expect(OrderStatus[(await system.orders.getOrder({ id: confirmed.id })).order!.status]).to.equal('ORDER_STATUS_CONFIRMED');

      const cancelled = await cancelledOrder('upd-cancelled');
      const late = await expectGrpcError(
        system.orders.updateOrder({ order: { id: cancelled.id, status: S.ORDER_STATUS_SHIPPED }, updateMask: ['status'] }),
        Code.FAILED_PRECONDITION,
      );
      expect(late.reason).to.equal('ILLEGAL_ORDER_TRANSITION');
      expect(OrderStatus[(await system.orders.getOrder({ id: cancelled.id })).order!.status]).to.equal('ORDER_STATUS_CANCELLED');
    });

    it('refuses a stale etag with ABORTED', async () => {
      const confirmed = await confirmedOrder('upd-etag');
      const stale = confirmed.etag;
      const updated = (
        await system.orders.updateOrder({
          order: { id: confirmed.id, shippingAddress: ADDRESS, etag: stale },
          updateMask: ['shipping_address'],
        })
      ).order!;
      expect(updated.etag).to.not.equal(stale);
      const refused = await expectGrpcError(
        system.orders.updateOrder({
          order: { id: confirmed.id, shippingAddress: { ...ADDRESS, city: 'Utrecht' }, etag: stale },
          updateMask: ['shipping_address'],
        }),
        Code.ABORTED,
      );
      expect(refused.reason).to.equal('ETAG_MISMATCH');
      expect((await system.orders.getOrder({ id: confirmed.id })).order!.shippingAddress).to.deep.equal(ADDRESS);
    });

    it('DeleteOrder refuses a CONFIRMED order and soft-deletes a CANCELLED one', async () => {
      const confirmed = await confirmedOrder('del-confirmed');
      const refused = await expectGrpcError(system.orders.deleteOrder({ id: confirmed.id }), Code.FAILED_PRECONDITION);
      expect(refused.reason).to.equal('ORDER_IN_PROGRESS');
      expect((await system.orders.getOrder({ id: confirmed.id })).order!.deleteTime).to.equal(undefined);

      const cancelled = await cancelledOrder('del-cancelled');
      const deleted = (await system.orders.deleteOrder({ id: cancelled.id })).order!;
      expect(deleted.deleteTime).to.be.instanceOf(Date);
      await expectGrpcError(system.orders.getOrder({ id: cancelled.id }), Code.NOT_FOUND);
      const shown = (await system.orders.getOrder({ id: cancelled.id, showDeleted: true })).order!;
      expect(shown.id).to.equal(cancelled.id);
      expect(shown.deleteTime).to.be.instanceOf(Date);
      expect((await system.orders.listOrders({ customerId: cancelled.customerId })).orders).to.deep.equal([]);
      expect(
        (await system.orders.listOrders({ customerId: cancelled.customerId, showDeleted: true })).orders.map((o) => o.id),
      ).to.deep.equal([cancelled.id]);
    });
  });

  describe('GetOrder / ListOrders', () => {
    it('names the malformed field with INVALID_ARGUMENT', async () => {
      const cases: [string, () => Promise<unknown>, string][] = [
        ['GetOrder', () => system.orders.getOrder({ id: 'not-a-uuid' }), 'id'],
        ['GetOrder empty', () => system.orders.getOrder({ id: '' }), 'id'],
        ['ListOrders', () => system.orders.listOrders({ customerId: '42' }), 'customer_id'],
        ['ListOrders page_size', () => system.orders.listOrders({ customerId: randomUUID(), pageSize: -1 }), 'page_size'],
        ['ListOrders page_token', () => system.orders.listOrders({ customerId: randomUUID(), pageToken: 'garbage!' }), 'page_token'],
        ['ListOrderEvents', () => system.orders.listOrderEvents({ orderId: 'nope' }), 'order_id'],
        ['CancelOrder', () => system.orders.cancelOrder({ id: 'nope' }), 'id'],
        ['DeleteOrder', () => system.orders.deleteOrder({ id: 'nope' }), 'id'],
        ['UpdateOrder', () => system.orders.updateOrder({ order: { id: 'nope' }, updateMask: ['shipping_address'] }), 'order.id'],
      ];
      for (const [what, call, field] of cases) {
        const error = await expectGrpcError(call(), Code.INVALID_ARGUMENT);
        expect(error.field, what).to.equal(field);
      }
      await expectGrpcError(system.orders.getOrder({ id: randomUUID() }), Code.NOT_FOUND);
    });

    it('pages newest first without duplicates and filters by status', async () => {
      const product = await createProduct(system, 50);
      const customerId = randomUUID();
      const created: string[] = [];
      const tokens = ['tok_ok', 'tok_decline', 'tok_ok', 'tok_decline', 'tok_ok'];
      for (const [i, token] of tokens.entries()) {
        const { order } = await system.orders.createOrder({
          customerId,
          idempotencyKey: `page-${i}`,
          paymentToken: token,
          items: [{ productId: product.id, quantity: 1 }],
        });
        created.push(order!.id);
        await delay(5);
      }
      for (const id of created) await waitForOrder(system, id, (o) => TERMINAL.has(o.status) || o.status === S.ORDER_STATUS_CONFIRMED);

      const seen: Order[] = [];
      const pageSizes: number[] = [];
      let pageToken = '';
      for (let page = 0; page < 10; page++) {
        const response = await system.orders.listOrders({ customerId, pageSize: 2, pageToken });
        pageSizes.push(response.orders.length);
        seen.push(...response.orders);
        pageToken = response.nextPageToken;
        if (!pageToken) break;
      }
      expect(pageSizes).to.deep.equal([2, 2, 1]);
      expect(seen.map((o) => o.id)).to.deep.equal([...created].reverse());
      expect(new Set(seen.map((o) => o.id)).size).to.equal(5);
      for (let i = 1; i < seen.length; i++) expect(seen[i]!.createTime!.getTime()).to.be.at.most(seen[i - 1]!.createTime!.getTime());

      const cancelled = (await system.orders.listOrders({ customerId, status: S.ORDER_STATUS_CANCELLED })).orders;
      expect(cancelled.map((o) => o.id)).to.deep.equal([created[3], created[1]]);
      const confirmed = (await system.orders.listOrders({ customerId, status: S.ORDER_STATUS_CONFIRMED, pageSize: 2 })).orders;
      expect(confirmed.map((o) => o.id)).to.deep.equal([created[4], created[2]]);
      expect((await system.orders.listOrders({ customerId, status: S.ORDER_STATUS_SHIPPED })).orders).to.deep.equal([]);
    });
  });
});
