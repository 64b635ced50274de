import { createServer, type Server } from 'node:net';
import { expect } from 'chai';
import type { NatsConnection } from 'nats';
import { uuidv7 } from '#libs/ids/uuid.js';
import { silentLogger } from '#libs/logging/logger.js';
import { ensureStream, type StreamSpec } from '#libs/events/streams.js';
import { connectNats, eventsMigration, sleep, uniqueToken, waitFor } from '#libs/events/test/helpers.js';
import { freePort } from '#test/support/free-port.js';
import { testNatsUrl } from '#test/support/root-hooks.js';
import { createTestDatabase, type TestDatabase } from '#test/support/test-database.js';
import { ServiceRuntime } from '../runtime.js';
import { testRuntimeConfig } from './runtime-config.js';

/** Something else listening on a port of 127.0.0.1. */
async function occupy(port = 0): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return { port: (server.address() as { port: number }).port, server };
}

describe('ServiceRuntime.serve() when a port is taken', function () {
  this.timeout(30_000);
  let testDb: TestDatabase;
  let nc: NatsConnection;
  const occupied: Server[] = [];

  before(async () => {
    testDb = await createTestDatabase('service_serve', [eventsMigration]);
    nc = await connectNats(testNatsUrl());
  });
  after(async () => {
    await nc?.close();
    await testDb?.drop();
  });
  afterEach(async () => {
    await Promise.all(occupied.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  });

  /** A runtime with one background job and one consumer on a stream of its own, as an app.ts declares them. */
  async function declaredRuntime(ports: { grpcPort: number; metricsPort: number }) {
    const token = uniqueToken();
    const subject = `serve${token}.thing`;
    const stream: StreamSpec = { name: `SERVE_${token}`, subjects: [`serve${token}.>`], duplicateWindowMs: 100 };
    // Ours as well: the runtime may stop before it creates the stream, and the test still publishes to it.
    await ensureStream(nc, stream);
    const runtime = new ServiceRuntime({
      name: 'larder-serve-test',
      config: testRuntimeConfig({ databaseUrl: testDb.url, natsUrl: testNatsUrl(), ...ports }),
      logger: silentLogger(),
      serviceNames: ['larder.test.v1.Nothing'],
      streams: [stream],
      outboxPollMs: 50,
    });
    const background = { stops: 0, stop: async () => void (background.stops += 1) };
    runtime.addBackground(background);
    const jobRuns: number[] = [];
    runtime.every(20, async () => void jobRuns.push(Date.now()));
    const handled: string[] = [];
    runtime.consume({
      component: 'serve-test',
      stream: stream.name,
      durableName: `serve-${token}`,
      filterSubjects: [subject],
      handle: async (message) => void handled.push(message.id),
    });
    const publish = async (id: string) => nc.jetstream().publish(subject, new Uint8Array(), { msgID: id });
    return { runtime, background, jobRuns, handled, publish };
  }

  async function serveError(runtime: ServiceRuntime): Promise<Error> {
    return runtime.serve().then(
      () => expect.fail('serve() resolved on a taken port'),
      (error: Error) => error,
    );
  }

  it('gRPC port taken at start: rethrows the bind error and stops the pool, background work and NATS plumbing', async () => {
    const taken = await occupy();
    occupied.push(taken.server);
    const { runtime, background, jobRuns, handled, publish } = await declaredRuntime({ grpcPort: taken.port, metricsPort: 0 });

    const error = await serveError(runtime);
    expect(error.message).to.include('EADDRINUSE');
    expect(background.stops, 'background work stopped once').to.equal(1);
    const runsAtFailure = jobRuns.length;
    let poolError: unknown;
    await runtime.db.raw('select 1').catch((e: unknown) => (poolError = e));
    expect(poolError, 'the pool is closed').to.be.instanceOf(Error);

    // Whatever NATS readiness was doing when the bind failed, it starts nothing now.
    await runtime.ready.catch(() => undefined);
    await publish(uuidv7());
    await sleep(500);
    expect(handled, 'no consumer left running').to.deep.equal([]);
    expect(jobRuns.length, 'the job no longer runs').to.equal(runsAtFailure);
  });

  it('metrics port taken after everything started: releases the gRPC port, stops the consumer, closes NATS and the pool', async () => {
    const taken = await occupy();
    occupied.push(taken.server);
    const grpcPort = await freePort();
    const { runtime, background, jobRuns, handled, publish } = await declaredRuntime({ grpcPort, metricsPort: taken.port });
    const { nats } = await runtime.ready;
    const first = uuidv7();
    await publish(first);
    await waitFor('the consumer to run', () => handled.includes(first));
    await waitFor('the job to run', () => jobRuns.length > 0);

    const error = await serveError(runtime);
    expect(error.message).to.include('EADDRINUSE');
    expect(background.stops).to.equal(1);
    expect(nats.isClosed(), 'NATS connection closed').to.equal(true);
    let poolError: unknown;
    await runtime.db.raw('select 1').catch((e: unknown) => (poolError = e));
    expect(poolError, 'the pool is closed').to.be.instanceOf(Error);
    // The gRPC port it had bound before the metrics port failed is free again.
    const again = await occupy(grpcPort);
    occupied.push(again.server);

    const runsAtFailure = jobRuns.length;
    await publish(uuidv7());
    await sleep(500);
    expect(handled, 'the consumer stopped').to.deep.equal([first]);
    expect(jobRuns.length).to.equal(runsAtFailure);
  });

  it('a consumer still starting when the runtime stops is stopped as soon as it has started, not kept', async () => {
    const { runtime } = await declaredRuntime({ grpcPort: 0, metricsPort: 0 });
    await runtime.ready;
    let release!: () => void;
    const startedLate = new Promise<void>((resolve) => (release = resolve));
    const late = { name: 'late', stops: 0, stats: () => ({ processed: 0, duplicates: 0, failures: 0, deadLettered: 0, redeliveries: 0 }) };
    runtime.whenNatsReady(async () => {
      await startedLate;
      return { ...late, stop: async () => void (late.stops += 1) };
    });
    await runtime.stop();
    release();
    await waitFor('the late consumer to be stopped', () => late.stops === 1, { timeoutMs: 2_000 });
  });
});
