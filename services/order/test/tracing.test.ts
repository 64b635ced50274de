import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { OrderStatus } from '#libs/contracts/larder/order/v1/resources.js';
import { eventually } from '#test/support/eventually.js';
import { delay } from '#test/support/free-port.js';
import { formatSpanTree, SPAN_KIND, startOtlpReceiver, type ExportedSpan, type OtlpReceiver } from '#test/support/otlp-receiver.js';
import { createProduct, hasStatus, startSystem, waitForOrder, type TestSystem } from './system.js';

const tracingEnv = (receiver: OtlpReceiver, protocol: string) => ({
  OTEL_TRACES_EXPORTER: 'otlp',
  OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
  OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
  OTEL_BSP_SCHEDULE_DELAY: '200',
});

/** One checkout with a known correlation id, through to CONFIRMED (so orders.confirmed reaches the inventory). */
async function checkout(system: TestSystem, correlationId: string): Promise<string> {
  const product = await createProduct(system, 10, 300);
  const customerId = randomUUID();
  await system.carts.addCartItem({ customerId, productId: product.id, quantity: 2 });
  const { order } = await system.orders.checkout(
    { customerId, idempotencyKey: `trace-${correlationId}`, paymentToken: 'tok_ok' },
    { correlationId },
  );
  await waitForOrder(system, order!.id, hasStatus(OrderStatus.ORDER_STATUS_CONFIRMED));
  return order!.id;
}

/** Polls (bounded) until `find` returns something, and returns it. */
async function seen<T>(what: string, find: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  let found: T | undefined;
  await eventually(what, () => (found = find()) !== undefined || 'not yet', { timeoutMs, intervalMs: 100 });
  return found!;
}

const logLines = (file: string): Record<string, unknown>[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

/** The chain of spans from `span` up to its trace's root (span first). */
function ancestry(spans: readonly ExportedSpan[], span: ExportedSpan): string[] {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const chain = [span];
  for (let parent = byId.get(span.parentSpanId); parent && chain.length < 100; parent = byId.get(parent.parentSpanId)) chain.push(parent);
  return chain.map((s) => s.spanId);
}

describe('tracing (OpenTelemetry, both services as processes)', function () {
  this.timeout(120_000);

  describe('on, OTLP http/json', () => {
    let receiver: OtlpReceiver;
    let system: TestSystem;
    before(async () => {
      receiver = await startOtlpReceiver();
      system = await startSystem({
        inventoryEnv: tracingEnv(receiver, 'http/json'),
        orderEnv: tracingEnv(receiver, 'http/json'),
      });
    });
    after(async () => {
      await system?.stop();
      await receiver?.close();
    });

    it('makes one checkout one trace: Checkout → ReserveStock in the inventory → relay → NATS → the consumer', async () => {
      const correlationId = `trace-test-${randomUUID()}`;
      await checkout(system, correlationId);

      const spans = () => receiver.spans();
      const checkoutSpan = await seen('the Checkout server span', () =>
        spans().find((s) => s.name === 'grpc.larder.order.v1.OrderService/Checkout' && s.kind === SPAN_KIND.server),
      );
      expect(checkoutSpan.service).to.equal('order');
      const inTrace = () => spans().filter((s) => s.traceId === checkoutSpan.traceId);
      // The inventory applies orders.confirmed (commits the reservation) in a consumer span of this trace.
      const consumed = await seen('the inventory consuming orders.confirmed in the checkout trace', () =>
        inTrace().find((s) => s.service === 'inventory' && s.kind === SPAN_KIND.consumer && s.name === 'process orders.confirmed'),
      );
      await delay(1_000); // the rest of the trace's batches
      const trace = inTrace();
      const byId = new Map(trace.map((s) => [s.spanId, s]));

      // Order server span → … → the order's client span → the inventory's ReserveStock server span → its statements.
      const reserveServer = trace.find(
        (s) => s.name === 'grpc.larder.inventory.v1.InventoryService/ReserveStock' && s.kind === SPAN_KIND.server,
      );
      expect(reserveServer, 'inventory ReserveStock server span in the trace').to.not.equal(undefined);
      expect(reserveServer!.service).to.equal('inventory');
      const reserveClient = byId.get(reserveServer!.parentSpanId)!;
      expect(reserveClient, 'parent of the inventory server span').to.include({
        service: 'order',
        kind: SPAN_KIND.client,
        name: 'grpc.larder.inventory.v1.InventoryService/ReserveStock',
      });
      expect(ancestry(trace, reserveClient)).to.include(checkoutSpan.spanId);
      const statements = trace.filter((s) => s.service === 'inventory' && s.attributes['db.system.name'] === 'postgresql');
      expect(
        statements.some((s) => ancestry(trace, s).includes(reserveServer!.spanId)),
        `pg spans under ReserveStock: ${trace.map((s) => s.name).join(', ')}`,
      ).to.equal(true);
      expect(
        trace.some(
          (s) =>
            s.service === 'order' && s.attributes['db.system.name'] === 'postgresql' && ancestry(trace, s).includes(checkoutSpan.spanId),
        ),
        'order pg spans under Checkout',
      ).to.equal(true);

      // Across NATS: the relay's producer span (order) is the consumer span's parent (inventory), and it continues the checkout.
      const producer = byId.get(consumed.parentSpanId)!;
      expect(producer, 'parent of the consumer span').to.include({
        service: 'order',
        kind: SPAN_KIND.producer,
        name: 'send orders.confirmed',
      });
      expect(ancestry(trace, producer)).to.include(checkoutSpan.spanId);
      // The consumer's own statements (commit of the reservation) are its children.
      expect(trace.some((s) => s.parentSpanId === consumed.spanId && s.attributes['db.system.name'] === 'postgresql')).to.equal(true);
      // Every span of the trace reaches the Checkout span: no stray roots.
      for (const span of trace) expect(ancestry(trace, span).at(-1), span.name).to.equal(checkoutSpan.spanId);

      // The request's log lines carry the trace id, besides the correlation id.
      for (const [service, file] of [
        ['order', `${system.logDir}/order.log`],
        ['inventory', `${system.logDir}/inventory.log`],
      ] as const) {
        const lines = logLines(file).filter((l) => l.correlationId === correlationId);
        expect(lines.length, `${service} log lines of the request`).to.be.greaterThan(0);
        for (const line of lines) expect(line.trace_id, JSON.stringify(line)).to.equal(checkoutSpan.traceId);
      }

      console.log(
        `\n      span tree of one checkout (trace ${checkoutSpan.traceId}):\n${formatSpanTree(trace).replace(/^/gm, '        ')}\n`,
      );
    });
  });

  describe('off by default; http/protobuf when asked', () => {
    let offReceiver: OtlpReceiver;
    let protobufReceiver: OtlpReceiver;
    let system: TestSystem;
    before(async () => {
      [offReceiver, protobufReceiver] = await Promise.all([startOtlpReceiver(), startOtlpReceiver()]);
      system = await startSystem({
        // An endpoint but no OTEL_TRACES_EXPORTER: tracing stays off, nothing is sent there.
        orderEnv: { OTEL_EXPORTER_OTLP_ENDPOINT: offReceiver.endpoint, OTEL_BSP_SCHEDULE_DELAY: '200' },
        inventoryEnv: tracingEnv(protobufReceiver, 'http/protobuf'),
      });
    });
    after(async () => {
      await system?.stop();
      await Promise.all([offReceiver?.close(), protobufReceiver?.close()]);
    });

    it('sends nothing and logs no trace ids without OTEL_TRACES_EXPORTER; the inventory exports protobuf', async () => {
      const correlationId = `untraced-${randomUUID()}`;
      await checkout(system, correlationId);
      const exported = await seen('a protobuf export from the inventory', () =>
        protobufReceiver.requests.find((r) => r.path === '/v1/traces' && r.body.length > 0),
      );
      expect(exported.contentType).to.equal('application/x-protobuf');
      expect(exported.body.includes(Buffer.from('inventory')), 'service.name in the encoded resource').to.equal(true);
      await delay(1_000); // five times the batch delay: an order export would have arrived
      expect(offReceiver.requests).to.deep.equal([]);
      const lines = logLines(`${system.logDir}/order.log`);
      expect(lines.filter((l) => l.correlationId === correlationId).length).to.be.greaterThan(0);
      expect(lines.filter((l) => 'trace_id' in l)).to.deep.equal([]);
    });
  });
});
