/**
 * What the outbox relay costs while it drains a backlog: rows/s, the database
 * connections it holds (sampled from pg_stat_activity every 20 ms), its CPU
 * share (this process, which runs only the relay, and its PostgreSQL
 * backends) and the event-loop delay it causes, i.e. what a request path
 * sharing the process would feel. A stand-in request path (one `select 1`
 * round trip on a pool of its own, back to back) runs in the same process, and
 * its latency is reported for a quiet second before the relay starts and for
 * the drain.
 *
 *   npx tsx scripts/measure-relay-backlog.ts            # 50,000 rows, default batch
 *   RELAY_ROWS=50000 RELAY_BATCH_SIZE=500 npx tsx scripts/measure-relay-backlog.ts
 *
 * Throwaway database and NATS server; nothing shared is touched.
 */
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createDatabase } from '#libs/db/knex.js';
import { createTestDatabase } from '#test/support/test-database.js';
import { createOutboxRelay } from '#libs/events/relay.js';
import { ensureStream } from '#libs/events/streams.js';
import { eventsMigration, connectNats } from '#libs/events/test/helpers.js';
import { silentLogger } from '#libs/logging/logger.js';
import { startThrowawayNatsServer } from '#test/support/nats-server.js';

const ROWS = Number(process.env.RELAY_ROWS ?? 50_000);
const BATCH_SIZE = process.env.RELAY_BATCH_SIZE ? Number(process.env.RELAY_BATCH_SIZE) : undefined;
const APP = 'larder-relay-measure';

/** CPU seconds (user + system) a Linux process has used so far. */
function cpuSecondsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (100 Hz)
}

const [nats, testDb] = await Promise.all([startThrowawayNatsServer(), createTestDatabase('relay_measure', [eventsMigration])]);
const nc = await connectNats(nats.url);
try {
  await ensureStream(nc, { name: 'MEASURE', subjects: ['measure.>'] });
  // ~150-byte payloads on 8 subjects, committed before the relay starts: a backlog.
  await testDb.db.raw(
    `insert into outbox (id, subject, event_type, payload, correlation_id, created_at)
     select gen_random_uuid(), 'measure.thing.' || (i % 8), 'larder.test.v1.ThingHappened',
            convert_to(repeat(md5(i::text), 5), 'UTF8'), 'corr-' || i, now() - make_interval(secs => ? - i)
       from generate_series(1, ?) as i`,
    [ROWS, ROWS],
  );
  await testDb.db.raw('analyze outbox');

  // The relay's own pool, named so its backends can be told apart from the sampler's.
  const relayDb = createDatabase({ url: testDb.url, poolMax: 10, applicationName: APP });
  const relay = createOutboxRelay({ db: relayDb, nats: nc, logger: silentLogger(), batchSize: BATCH_SIZE, pollIntervalMs: 50 });

  const samples: { total: number; active: number; idleInTx: number }[] = [];
  const backendPids = new Set<number>();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const { rows } = await testDb.db.raw<{ rows: { pid: number; state: string }[] }>(
        'select pid, state from pg_stat_activity where application_name = ?',
        [APP],
      );
      for (const row of rows) backendPids.add(row.pid);
      samples.push({
        total: rows.length,
        active: rows.filter((r) => r.state === 'active').length,
        idleInTx: rows.filter((r) => r.state?.startsWith('idle in transaction')).length,
      });
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();

  // The request path's stand-in: its own pool, one query at a time, latencies by phase.
  const requestDb = createDatabase({ url: testDb.url, poolMax: 2, applicationName: 'larder-request-probe' });
  const latencies: { quiet: number[]; draining: number[] } = { quiet: [], draining: [] };
  let phase: keyof typeof latencies | undefined = 'quiet';
  const requests = (async () => {
    while (phase) {
      const at = performance.now();
      await requestDb.raw('select 1');
      latencies[phase]?.push(performance.now() - at);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  })();
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  phase = 'draining';

  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  const startedAt = performance.now();
  const cpuBefore = process.cpuUsage();
  loopDelay.enable();
  relay.start();
  for (let i = 0; i < 6_000; i++) {
    // Polled on the sampler's pool, so the relay's own connections are only its own work.
    const { n } = (await testDb.db('outbox').whereNull('published_at').count({ n: '*' }).first()) as { n: string };
    if (Number(n) === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const seconds = (performance.now() - startedAt) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  loopDelay.disable();
  // The relay's backends started with it, so their whole CPU time is the relay's.
  let backendCpu = 0;
  for (const pid of backendPids) {
    try {
      backendCpu += cpuSecondsOf(pid);
    } catch {
      // the backend ended before we read it
    }
  }
  sampling = false;
  phase = undefined;
  await Promise.all([sampler, requests]);
  await requestDb.destroy();
  await relay.stop();
  const { count: left } = await relay.backlog();
  await relayDb.destroy();

  const stats = relay.stats();
  const mean = (pick: (s: (typeof samples)[number]) => number) => samples.reduce((sum, s) => sum + pick(s), 0) / samples.length;
  const result = {
    rows: ROWS,
    batchSize: BATCH_SIZE ?? 'default',
    seconds: Number(seconds.toFixed(2)),
    rowsPerSecond: Math.round(stats.published / seconds),
    published: stats.published,
    duplicates: stats.duplicates,
    publishFailures: stats.publishFailures,
    leftUnpublished: left,
    connections: {
      max: Math.max(...samples.map((s) => s.total)),
      meanOpen: Number(mean((s) => s.total).toFixed(2)),
      meanActive: Number(mean((s) => s.active).toFixed(2)),
      meanIdleInTransaction: Number(mean((s) => s.idleInTx).toFixed(2)),
      distinctBackends: backendPids.size,
    },
    relayProcessCpuShare: Number(((cpu.user + cpu.system) / 1e6 / seconds).toFixed(3)),
    relayBackendsCpuShare: Number((backendCpu / seconds).toFixed(3)),
    requestLatencyMs: { quiet: summary(latencies.quiet), draining: summary(latencies.draining) },
    eventLoopDelayMs: { p50: ms(loopDelay.percentile(50)), p99: ms(loopDelay.percentile(99)), max: ms(loopDelay.max) },
  };
  console.log(JSON.stringify(result, null, 2));
} finally {
  await nc.close();
  await testDb.drop();
  await nats.destroy();
}

/** Nanoseconds to milliseconds, two decimals. */
function ms(ns: number): number {
  return Number((ns / 1e6).toFixed(2));
}

function summary(values: number[]): { n: number; p50: number; p99: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => Number((sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? 0).toFixed(2));
  return { n: sorted.length, p50: at(0.5), p99: at(0.99) };
}
