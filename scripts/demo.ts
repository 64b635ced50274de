/**
 * `npm run demo`: a guided tour of a running Larder (start it with `npm start`).
 * Browses the catalog, fills a cart and checks out to CONFIRMED as a customer
 * holding a token (development key set, as npm start configures it), shows
 * that another customer's token cannot see that order, shows a declined
 * payment giving its stock back, then runs a flash sale — 50 buyers at once
 * for the last 5 units, placed by the storefront's service key — then tours
 * stock in many places (a routed reservation, a split, a transfer, a pickup
 * order) and checks the stock invariant. Exits 1 when anything is not as it
 * should be.
 */
import { randomUUID } from 'node:crypto';
import * as inventoryMessages from '#libs/contracts/larder/inventory/v1/inventory_service.js';
import { InventoryServiceService } from '#libs/contracts/larder/inventory/v1/inventory_service.js';
import * as cartMessages from '#libs/contracts/larder/order/v1/cart_service.js';
import { CartServiceService } from '#libs/contracts/larder/order/v1/cart_service.js';
import * as orderMessages from '#libs/contracts/larder/order/v1/order_service.js';
import { OrderServiceService } from '#libs/contracts/larder/order/v1/order_service.js';
import { AdjustmentReason } from '#libs/contracts/larder/inventory/v1/resources.js';
import { OrderStatus, type Order } from '#libs/contracts/larder/order/v1/resources.js';
import { createDatabase } from '#libs/db/knex.js';
import { status as Code, type ServiceError } from '@grpc/grpc-js';
import { createPromiseClient } from '#libs/grpc/client.js';
import { errorInfoOf } from '#libs/grpc/status.js';
import { checkStockInvariant } from '../services/inventory/operator.js';
import { mintDevToken } from './token/dev-token.js';

const INVENTORY = process.env.INVENTORY_ADDR ?? '127.0.0.1:50051';
const ORDER = process.env.ORDER_ADDR ?? '127.0.0.1:50052';
const INVENTORY_DB = process.env.INVENTORY_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/larder_inventory';
const correlationId = `demo-${randomUUID().slice(0, 8)}`;
const options = (apiKey: string) => ({ defaults: { apiKey, timeoutMs: 10_000, correlationId } });

const inventory = createPromiseClient(InventoryServiceService, inventoryMessages, INVENTORY, options('dev-inventory-admin-key'));
const carts = createPromiseClient(CartServiceService, cartMessages, ORDER, options('dev-storefront-key'));
const orders = createPromiseClient(OrderServiceService, orderMessages, ORDER, options('dev-order-admin-key'));

/** Cart and order clients acting as one customer: its token, so requests leave customer_id out. */
async function asCustomer(customerId: string) {
  const token = await mintDevToken(customerId, { ttlSeconds: 600 });
  const customer = {
    carts: createPromiseClient(CartServiceService, cartMessages, ORDER, options(token)),
    orders: createPromiseClient(OrderServiceService, orderMessages, ORDER, options(token)),
    close: () => [customer.carts, customer.orders].forEach((c) => c.close()),
  };
  return customer;
}

const euro = (minor: number | undefined) => `€${((minor ?? 0) / 100).toFixed(2)}`;
const statusName = (status: OrderStatus) => OrderStatus[status]?.replace('ORDER_STATUS_', '') ?? String(status);
let failures = 0;
function check(ok: boolean, what: string): void {
  console.log(`   ${ok ? '✔' : '✘'} ${what}`);
  if (!ok) failures += 1;
}
const step = (title: string) => console.log(`\n▶ ${title}`);

async function waitFor(id: string, done: (o: Order) => boolean, timeoutMs = 20_000): Promise<Order> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { order } = await orders.getOrder({ id });
    if (done(order!) || Date.now() > deadline) return order!;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stock(productId: string) {
  return (await inventory.batchGetStockLevels({ productIds: [productId] })).stockLevels[0]!;
}

async function browse() {
  step('Browse: categories and the first page of products');
  const { categories } = await inventory.listCategories({ pageSize: 10 });
  console.log(`   ${categories.length} categories: ${categories.map((c) => c.name).join(', ')}`);
  const page = await inventory.listProducts({ pageSize: 5 });
  for (const p of page.products)
    console.log(
      `   ${p.sku.padEnd(24)} ${p.name.padEnd(30)} ${euro(p.price?.minorUnits).padStart(7)}  ${p.stockLevel?.available} in stock`,
    );
  check(page.products.length > 0, 'the catalog has products (npm start seeds them)');
  return page.products;
}

async function happyCheckout(productId: string) {
  step('As a customer with a token: fill a cart and check out with a good card (tok_ok)');
  const customerId = randomUUID();
  const customer = await asCustomer(customerId);
  const stranger = await asCustomer(randomUUID());
  try {
    // No customer_id anywhere: the token's subject is the customer.
    await customer.carts.addCartItem({ productId, quantity: 2 });
    const { cart } = await customer.carts.getCart({});
    console.log(
      `   cart of ${customerId.slice(0, 8)}…: ${cart!.items.map((i) => `${i.quantity} × ${i.productId.slice(0, 8)}…`).join(', ')}`,
    );
    const before = await stock(productId);
    const { order } = await customer.orders.checkout({ idempotencyKey: `demo-${randomUUID()}`, paymentToken: 'tok_ok' });
    console.log(`   checkout → order ${order!.id.slice(0, 8)}… ${statusName(order!.status)}, total ${euro(order!.total?.minorUnits)}`);
    const done = await waitFor(order!.id, (o) => o.status === OrderStatus.ORDER_STATUS_CONFIRMED);
    const { events } = await customer.orders.listOrderEvents({ orderId: order!.id });
    for (const e of events)
      console.log(
        `   log #${e.sequence}: ${statusName(e.fromStatus) === 'UNSPECIFIED' ? '—' : statusName(e.fromStatus)} → ${statusName(e.toStatus)} (${e.reason})`,
      );
    const after = await stock(productId);
    check(done.status === OrderStatus.ORDER_STATUS_CONFIRMED, 'the order is CONFIRMED');
    check(after.sold - before.sold === 2 && after.reserved === before.reserved, 'two units moved from available to sold');
    const own = await customer.orders.listOrders({});
    check(own.orders.length === 1 && own.orders[0]!.id === order!.id, 'ListOrders with the token lists the customer’s one order');
    const refused = await stranger.orders.getOrder({ id: order!.id }).then(
      () => 'OK',
      (error: ServiceError) => `${Code[error.code]} ${errorInfoOf(error)?.reason ?? ''}`.trim(),
    );
    check(refused === 'NOT_FOUND ORDER_NOT_FOUND', `another customer’s token gets ${refused} for this order`);
  } finally {
    customer.close();
    stranger.close();
  }
}

async function declinedCheckout(productId: string) {
  step('A declined card (tok_decline): the order is cancelled and its stock released');
  const before = await stock(productId);
  const customer = await asCustomer(randomUUID());
  const { order } = await customer.orders
    .createOrder({ idempotencyKey: `demo-${randomUUID()}`, paymentToken: 'tok_decline', items: [{ productId, quantity: 1 }] })
    .finally(() => customer.close());
  const done = await waitFor(order!.id, (o) => o.status === OrderStatus.ORDER_STATUS_CANCELLED);
  console.log(`   order ${order!.id.slice(0, 8)}… ${statusName(done.status)}: ${done.cancelReason}`);
  const after = await stock(productId);
  check(done.status === OrderStatus.ORDER_STATUS_CANCELLED, 'the order is CANCELLED');
  check(
    after.available === before.available && after.reserved === before.reserved,
    `stock is back (${after.available} available, ${after.reserved} reserved)`,
  );
}

async function flashSale() {
  step('Flash sale: 50 buyers at once for the last 5 units (placed by the storefront, with its service key)');
  const { product } = await inventory.createProduct({
    product: {
      sku: `DEMO-FLASH-${Date.now().toString(36).toUpperCase()}`,
      name: 'Truffle cheese 200 g (flash sale)',
      price: { currencyCode: 'EUR', minorUnits: 1299 },
    },
    initialStock: 5,
  });
  const buyers = Array.from({ length: 50 }, () => randomUUID());
  await Promise.all(buyers.map((customerId) => carts.addCartItem({ customerId, productId: product!.id, quantity: 1 })));
  const started = Date.now();
  const placed = await Promise.all(
    buyers.map((customerId) =>
      orders.checkout({ customerId, idempotencyKey: `flash-${customerId}`, paymentToken: 'tok_ok' }).then((r) => r.order!),
    ),
  );
  console.log(`   50 checkouts answered in ${Date.now() - started} ms`);
  const settled = await Promise.all(
    placed.map((o) =>
      waitFor(o.id, (x) => ![OrderStatus.ORDER_STATUS_PENDING, OrderStatus.ORDER_STATUS_RESERVED].includes(x.status), 30_000),
    ),
  );
  const count = (s: OrderStatus) => settled.filter((o) => o.status === s).length;
  const confirmed = count(OrderStatus.ORDER_STATUS_CONFIRMED);
  const waiting = count(OrderStatus.ORDER_STATUS_AWAITING_STOCK);
  const failed = count(OrderStatus.ORDER_STATUS_FAILED);
  const final = await stock(product!.id);
  const db = createDatabase({ url: INVENTORY_DB, poolMax: 1 });
  const { violations } = await checkStockInvariant(db).finally(() => db.destroy());
  console.log('\n   ┌───────────┬─────────┬────────┬───────────────────────────────┬───────────┐');
  console.log('   │ confirmed │ waiting │ failed │ final stock (avail/res/sold)  │ invariant │');
  console.log(
    `   │ ${String(confirmed).padStart(9)} │ ${String(waiting).padStart(7)} │ ${String(failed).padStart(6)} │ ${`${final.available} / ${final.reserved} / ${final.sold}`.padEnd(29)} │ ${(violations.length === 0 ? 'holds' : 'BROKEN').padEnd(9)} │`,
  );
  console.log('   └───────────┴─────────┴────────┴───────────────────────────────┴───────────┘');
  check(confirmed === 5, 'exactly 5 buyers got the 5 units');
  check(waiting + failed === 45, 'the other 45 wait for stock (or gave up)');
  check(final.available === 0 && final.reserved === 0 && final.sold === 5, 'nothing oversold: 0 available, 0 reserved, 5 sold');
  check(
    violations.length === 0,
    `stock conservation holds for every product${violations.length ? `: ${violations.map((v) => v.sku).join(', ')}` : ''}`,
  );
  // Tidy up: the waiting orders would otherwise retry until their attempts run out.
  const waitingOrders = settled.filter((o) => o.status === OrderStatus.ORDER_STATUS_AWAITING_STOCK);
  await Promise.all(waitingOrders.map((o) => orders.cancelOrder({ id: o.id, reason: 'demo over' })));
  if (waitingOrders.length) console.log(`   (cancelled the ${waitingOrders.length} waiting orders so they do not linger)`);
}

/** A Mitte customer: in ber-mitte's area (0.6 km) and in ber-kreuzberg's radius (2.5 km); the warehouse ships everywhere. */
const MITTE_CUSTOMER = { postalCode: '10119', coordinates: { latitude: 52.5246, longitude: 13.405 } };

async function locationsTour() {
  step('Stock in many places: a routed reservation, a split, a transfer and a pickup (docs/routing.md)');
  const { locations } = await inventory.listLocations({ pageSize: 50 });
  const id = (code: string) => locations.find((l) => l.code === code)?.id ?? '';
  const [mitte, kreuzberg, warehouse] = [id('ber-mitte'), id('ber-kreuzberg'), id('ber-warehouse')];
  check(Boolean(mitte && kreuzberg && warehouse), 'the demo chain has two dark stores and a warehouse (npm start seeds them)');
  if (!mitte || !kreuzberg || !warehouse) return;
  const codeOf = new Map(locations.map((l) => [l.id, l.code]));
  const where = (lines: readonly { locationId: string; quantity: number }[]) =>
    lines.map((l) => `${l.quantity} at ${codeOf.get(l.locationId)}`).join(', ');
  const { product } = await inventory.createProduct({
    product: {
      sku: `DEMO-ROUTED-${Date.now().toString(36).toUpperCase()}`,
      name: 'Sourdough loaf (routing tour)',
      price: { currencyCode: 'EUR', minorUnits: 449 },
    },
    initialStock: 0,
  });
  const productId = product!.id;
  for (const [locationId, units] of [
    [mitte, 3],
    [kreuzberg, 2],
    [warehouse, 4],
  ] as const) {
    await inventory.adjustStock({
      productId,
      locationId,
      delta: units,
      reason: AdjustmentReason.ADJUSTMENT_REASON_RESTOCK,
      idempotencyKey: `demo-${randomUUID()}`,
    });
  }
  console.log('   a new product: 3 at ber-mitte, 2 at ber-kreuzberg, 4 at ber-warehouse');
  const reserve = (quantity: number) =>
    inventory.reserveStock({ orderId: randomUUID(), items: [{ productId, quantity }], destination: MITTE_CUSTOMER });

  const routed = (await reserve(2)).reservation!;
  console.log(`   2 for a customer in ${MITTE_CUSTOMER.postalCode}: ${where(routed.allocations)}`);
  check(routed.allocations.length === 1 && routed.allocations[0]!.locationId === mitte, 'routed to the nearest location that has them');

  const split = (await reserve(6)).reservation!;
  console.log(`   6 more (no one location has 6): ${where(split.allocations)}`);
  check(split.allocations.length === 3, 'split over the three locations, nearest first');

  const { transfer } = await inventory.createTransfer({
    fromLocationId: warehouse,
    toLocationId: kreuzberg,
    items: [{ productId, quantity: 1 }],
    idempotencyKey: `demo-${randomUUID()}`,
    note: 'demo',
  });
  await inventory.receiveTransfer({ id: transfer!.id, received: [] });
  const atKreuzberg = (await inventory.batchGetStockLevels({ productIds: [productId], locationId: kreuzberg })).stockLevels[0]!;
  console.log(`   transfer of 1 from ber-warehouse to ber-kreuzberg, received: ${atKreuzberg.availableToSell} to sell there`);
  check(atKreuzberg.availableToSell === 1, 'the transferred unit is at ber-kreuzberg');

  const customer = await asCustomer(randomUUID());
  const { order } = await customer.orders
    .createOrder({
      idempotencyKey: `demo-${randomUUID()}`,
      paymentToken: 'tok_ok',
      items: [{ productId, quantity: 1 }],
      fulfilment: { pickup: { locationId: kreuzberg } },
    })
    .finally(() => customer.close());
  const picked = await waitFor(order!.id, (o) => o.status === OrderStatus.ORDER_STATUS_CONFIRMED);
  console.log(`   pickup order at ber-kreuzberg: ${statusName(picked.status)}, ${where(picked.allocations)}`);
  check(
    picked.status === OrderStatus.ORDER_STATUS_CONFIRMED && picked.allocations.every((a) => a.locationId === kreuzberg),
    'the pickup order is CONFIRMED with its unit at ber-kreuzberg',
  );
  for (const r of [routed, split]) await inventory.releaseReservation({ orderId: r.orderId, reason: 'demo over' });
  const [total] = (await inventory.batchGetStockLevels({ productIds: [productId] })).stockLevels;
  console.log(
    `   released the two reservations: ${total!.availableToSell} to sell, ${total!.sold} sold, over ${total!.locations.length} locations`,
  );
  check(total!.availableToSell === 8 && total!.sold === 1 && total!.inTransit === 0, 'every unit accounted for: 8 to sell, 1 sold');
}

async function main(): Promise<void> {
  console.log(`Larder demo — inventory ${INVENTORY}, order ${ORDER}, correlation id ${correlationId}`);
  const products = await browse();
  const product = [...products].sort((a, b) => (b.stockLevel?.available ?? 0) - (a.stockLevel?.available ?? 0))[0];
  if (product) {
    await happyCheckout(product.id);
    await declinedCheckout(product.id);
  }
  await flashSale();
  await locationsTour();
  console.log(failures === 0 ? '\nAll good.' : `\n${failures} check(s) failed.`);
  process.exitCode = failures === 0 ? 0 : 1;
}

main()
  .catch((error: unknown) => {
    const e = error as { code?: number; details?: string; message: string };
    console.error(`\ndemo failed: ${e.details ?? e.message}${e.code === 14 ? ' — is Larder running? Start it with `npm start`.' : ''}`);
    process.exitCode = 1;
  })
  .finally(() => [inventory, carts, orders].forEach((c) => c.close()));
