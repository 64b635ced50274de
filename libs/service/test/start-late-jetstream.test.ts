import { expect } from 'chai';
import { NatsError, type NatsConnection } from 'nats';
import { isJetStreamRefusal } from '#libs/events/jetstream-errors.js';
import { appendToOutbox } from '#libs/events/outbox.js';
import type { StreamSpec } from '#libs/events/streams.js';
import { connectNats, eventsMigration, messageIds, readStream, sleep, uniqueToken, waitFor } from '#libs/events/test/helpers.js';
import { uuidv7 } from '#libs/ids/uuid.js';
import { capturingLogger } from '#test/support/capturing-logger.js';
import { startThrowawayNatsServer, type ThrowawayNatsServer } from '#test/support/nats-server.js';
import { createTestDatabase, type TestDatabase } from '#test/support/test-database.js';
import { ServiceRuntime } from '../runtime.js';
import { testRuntimeConfig } from './runtime-config.js';

/**
 * A service that starts while JetStream cannot answer (a broker still coming
 * up, a cluster electing its stream leaders) keeps trying to create its streams
 * and consumers, and runs its relay and consumers once it can. CI once saw the
 * inventory give up on a TIMEOUT at start and serve on without either.
 */
describe('ServiceRuntime: JetStream not answering at start', function () {
  this.timeout(60_000);
  let testDb: TestDatabase;
  let broker: ThrowawayNatsServer;
  let runtime: ServiceRuntime | undefined;
  let reader: NatsConnection | undefined;

  before(async () => {
    testDb = await createTestDatabase('service_late_jetstream', [eventsMigration]);
  });
  afterEach(async () => {
    await runtime?.stop();
    runtime = undefined;
    await reader?.close();
    reader = undefined;
    await broker?.destroy();
  });
  after(async () => {
    await testDb?.drop();
  });

  function newRuntime(url: string, stream: StreamSpec, logger = capturingLogger().logger): ServiceRuntime {
    return new ServiceRuntime({
      name: 'larder-late-js-test',
      config: testRuntimeConfig({ databaseUrl: testDb.url, natsUrl: url }),
      logger,
      serviceNames: ['larder.test.v1.Nothing'],
      streams: [stream],
      outboxPollMs: 50,
    });
  }

  it('keeps trying to create its streams and consumers, then relays and consumes once JetStream answers', async () => {
    broker = await startThrowawayNatsServer({ jetstream: false });
    const token = uniqueToken();
    const subject = `late${token}.thing`;
    const stream: StreamSpec = { name: `LATE_${token}`, subjects: [`late${token}.>`] };
    const { logger, lines } = capturingLogger();
    runtime = newRuntime(broker.url, stream, logger);
    const handled: string[] = [];
    runtime.consume({
      component: 'late-test',
      stream: stream.name,
      durableName: `late-${token}`,
      filterSubjects: [subject],
      handle: async (message) => void handled.push(message.id),
    });
    let ready = false;
    void runtime.ready.then(() => (ready = true));
    // An event written while JetStream is away waits in the outbox.
    const early = uuidv7();
    await testDb.db.transaction((trx) =>
      appendToOutbox(trx, [{ id: early, subject, type: 'larder.test.v1.Thing', payload: new Uint8Array([1]) }]),
    );

    await waitFor(
      'two failed attempts at the streams, logged',
      () => lines.filter((line) => line.msg === 'the event streams could not start; trying again').length >= 2,
    );
    expect(ready, 'not ready while JetStream cannot answer').to.equal(false);

    await broker.stop();
    await broker.start({ jetstream: true });
    await Promise.race([runtime.ready, sleep(20_000).then(() => expect.fail('not ready 20 s after JetStream came up'))]);

    // The relay publishes the waiting event, and the consumer (started after the streams) applies it.
    await waitFor('the early event relayed and consumed', () => handled.includes(early), { timeoutMs: 20_000 });
    reader = await connectNats(broker.url);
    expect(messageIds(await readStream(reader, stream.name))).to.deep.equal([early]);
    const unpublished = await testDb.db('outbox').whereNull('published_at').count<{ count: string }[]>('* as count');
    expect(Number(unpublished[0]!.count)).to.equal(0);
  });

  it('a consumer whose start fails is started again (stopping whatever part of it had started), not given up', async () => {
    broker = await startThrowawayNatsServer();
    const token = uniqueToken();
    runtime = newRuntime(broker.url, { name: `LATE_${token}`, subjects: [`late${token}.>`] });
    await runtime.ready;
    let attempts = 0;
    let stops = 0;
    const stats = () => ({ processed: 0, duplicates: 0, failures: 0, deadLettered: 0, redeliveries: 0 });
    runtime.whenNatsReady(async () => {
      attempts += 1;
      if (attempts < 3) throw new NatsError('TIMEOUT', 'TIMEOUT');
      return { name: 'flaky', stats, stop: async () => void (stops += 1) };
    });
    await waitFor('the third attempt to start it', () => attempts === 3, { timeoutMs: 10_000 });
    // Whether the runtime has taken the started consumer yet or takes it while stopping, it stops it once.
    await runtime.stop();
    runtime = undefined;
    expect(stops, 'the started consumer is stopped with the runtime').to.equal(1);
  });

  it('tells a refusal (asking again will not help) from no answer (it will)', () => {
    const withApiError = (code: number) =>
      Object.assign(new NatsError('refused', String(code)), { api_error: { code, err_code: 10074, description: 'refused' } });
    expect(isJetStreamRefusal(withApiError(500)), 'replicas the server cannot have').to.equal(true);
    expect(isJetStreamRefusal(withApiError(400))).to.equal(true);
    expect(isJetStreamRefusal(withApiError(503)), 'JetStream temporarily unavailable').to.equal(false);
    expect(isJetStreamRefusal(new NatsError('TIMEOUT', 'TIMEOUT'))).to.equal(false);
    expect(isJetStreamRefusal(new NatsError('503', '503')), 'no responders').to.equal(false);
    expect(isJetStreamRefusal(new Error('socket closed'))).to.equal(false);
  });
});
