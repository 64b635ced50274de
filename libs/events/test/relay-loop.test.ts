import { expect } from 'chai';
import { pino, type Logger } from 'pino';
import { capturingLogger } from '#test/support/capturing-logger.js';
import type { OutboxRelay, OutboxRelayOptions } from '../relay.js';
import { ensureStream } from '../streams.js';
import { sleep, uniqueToken, waitFor } from './helpers.js';
import { relayFixture } from './relay-fixture.js';
import { CLAIM_SQL, heldPublishes, PURGE_SQL, statementTimes } from './relay-probes.js';

/**
 * The relay's loop in time: how often it polls, how it spaces and backs off
 * rounds, when it purges, how it stops, and what it logs when a round or a
 * purge fails. Rounds and purges are timed from the SQL the relay sends to a
 * real database.
 * Found by mutation testing: the delivery tests pass whatever the timing.
 */
describe('outbox relay: polling, spacing, back-off, purge schedule and failures', function () {
  this.timeout(30_000);

  const fx = relayFixture('relay_loop');
  const { newRelay } = fx;
  let prefix: string;

  before(async () => {
    const token = uniqueToken();
    prefix = `rloop${token}`;
    await ensureStream(fx.nc, { name: `RLOOP_${token}`, subjects: [`${prefix}.>`] });
  });
  const append = (count: number, subject = `${prefix}.x`) => fx.append(subject, count);

  const unpublished = async () => (await fx.db('outbox').whereNull('published_at')).length;

  /** Runs `body` with a statement-level trigger that raises on `event` (update or delete) of the outbox. */
  async function withOutboxRefusing<T>(event: 'update' | 'delete', body: () => Promise<T>): Promise<T> {
    await fx.db.raw(`
      create or replace function test_refuse() returns trigger language plpgsql as $$
      begin raise exception 'test: outbox ${event} refused'; end $$;
      create trigger test_refuse before ${event} on outbox for each statement execute function test_refuse();`);
    try {
      return await body();
    } finally {
      await fx.db.raw('drop trigger test_refuse on outbox; drop function test_refuse()');
    }
  }

  /**
   * The gaps between the first rounds of a relay (poll 50 ms, ceiling 400 ms)
   * whose rounds publish nothing, with wake() called every 10 ms throughout.
   */
  async function backOffGaps(relay: OutboxRelay): Promise<number[]> {
    const claims = statementTimes(fx.db, CLAIM_SQL);
    const waking = setInterval(() => relay.wake(), 10);
    try {
      relay.start();
      await waitFor('eight rounds', () => claims.times.length >= 8);
    } finally {
      clearInterval(waking);
      claims.stop();
    }
    return claims.gaps().slice(0, 7);
  }

  /** Poll × 1, 2, 4 … up to the ceiling (50, 100, 200, 400, 400 …), never cut short by wake(). */
  function expectBackingOff(gaps: number[]) {
    const expected = gaps.map((_, i) => Math.min(400, 50 * 2 ** i));
    const shown = `gaps ${gaps.join(', ')} ms, expected ${expected.join(', ')}`;
    gaps.forEach((gap, i) => expect(gap, shown).to.be.at.least(expected[i]! - 5));
    // Upper bounds on sums, loose enough for a busy machine: a doubling that starts higher or is not capped is far above.
    expect(gaps[0]! + gaps[1]! + gaps[2]!, shown).to.be.below(800);
    expect(gaps[4]! + gaps[5]! + gaps[6]!, shown).to.be.below(2_000);
  }

  it('polls every 200 ms by default while idle, and a second start() adds no second loop', async () => {
    const claims = statementTimes(fx.db, CLAIM_SQL);
    const relay = newRelay();
    relay.start();
    relay.start();
    await sleep(1_100);
    claims.stop();
    expect(claims.times.length, `rounds at +${claims.gaps().join(', +')} ms`).to.be.within(4, 7);
    for (const gap of claims.gaps()) expect(gap).to.be.at.least(195);
  });

  it('drains full batches back to back, without waiting for the poll or the round spacing', async () => {
    await append(35);
    newRelay({ batchSize: 10, pollIntervalMs: 60_000, roundSpacingMs: 60_000 }).start();
    await waitFor('four rounds drained 35 rows', async () => (await unpublished()) === 0, { timeoutMs: 5_000 });
  });

  it('starts a woken round no sooner than roundSpacingMs after the last one, however often it is woken', async () => {
    const claims = statementTimes(fx.db, CLAIM_SQL);
    const relay = newRelay({ pollIntervalMs: 60_000, roundSpacingMs: 300 });
    let waking: NodeJS.Timeout | undefined;
    try {
      relay.start();
      await waitFor('the first round', () => claims.times.length === 1);
      await sleep(200);
      await append(1);
      waking = setInterval(() => relay.wake(), 10);
      await waitFor('the woken round', () => claims.times.length === 2, { timeoutMs: 5_000 });
    } finally {
      clearInterval(waking);
      claims.stop();
    }
    // Woken 200 ms after the first round: it waits the remaining 100 ms, not the whole spacing again.
    expect(claims.gaps()[0]).to.be.within(295, 450);
    await waitFor('the row published', async () => (await unpublished()) === 0);
  });

  it('stop() during the round spacing runs no further round (with no drain: relay-drain.test.ts has the drain)', async () => {
    const claims = statementTimes(fx.db, CLAIM_SQL);
    const relay = newRelay({ pollIntervalMs: 60_000, roundSpacingMs: 60_000, drainMs: 0 });
    try {
      relay.start();
      await waitFor('the first round', () => claims.times.length === 1);
      await append(1);
      relay.wake();
      await sleep(50); // past the poll, into the spacing
      const stopping = relay.stop().then(() => 'stopped');
      expect(await Promise.race([stopping, sleep(3_000).then(() => 'still waiting after 3 s')])).to.equal('stopped');
    } finally {
      claims.stop();
    }
    expect(claims.times).to.have.length(1);
    expect(await unpublished()).to.equal(1);
  });

  it('backs off while nothing can be published (no stream), and wake() does not cut the back-off short', async () => {
    await append(1, `nostream${uniqueToken()}.x`);
    const relay = newRelay({ pollIntervalMs: 50, maxBackoffMs: 400, publishTimeoutMs: 1_000 });
    expectBackingOff(await backOffGaps(relay));
  });

  it('backs off the same way when a round fails in the database, and logs each failure', async () => {
    const { logger, lines } = capturingLogger();
    await append(1);
    const gaps = await withOutboxRefusing('update', () => backOffGaps(newRelay({ logger, pollIntervalMs: 50, maxBackoffMs: 400 })));
    expectBackingOff(gaps);
    const failed = lines.filter((l) => l.msg === 'outbox relay round failed');
    expect(failed.length).to.be.at.least(7);
    for (const line of failed) {
      expect(line).to.include({ level: 50, component: 'outbox-relay' });
      expect((line.err as { message: string }).message).to.include('test: outbox update refused');
    }
  });

  it('runs the retention purge once a minute by default, and every cleanupIntervalMs when set', async () => {
    const purges = (options: Partial<OutboxRelayOptions>) => {
      const times = statementTimes(fx.db, PURGE_SQL);
      const relay = newRelay({ pollIntervalMs: 20, ...options });
      relay.start();
      return { times, relay };
    };
    const byDefault = purges({});
    await sleep(1_100);
    byDefault.times.stop();
    await byDefault.relay.stop();
    expect(byDefault.times.times, 'purges in 1.1 s by default').to.have.length(1);

    const { times: every250 } = purges({ cleanupIntervalMs: 250 });
    await sleep(1_100);
    every250.stop();
    expect(every250.times.length, 'purges in 1.1 s, one every 250 ms').to.be.within(3, 6);
    for (const gap of every250.gaps()) expect(gap).to.be.at.least(245);
  });

  it('logs a failed purge and keeps relaying', async () => {
    const { logger, lines } = capturingLogger();
    await withOutboxRefusing('delete', async () => {
      newRelay({ logger, pollIntervalMs: 20, cleanupIntervalMs: 0, retentionMs: 0 }).start();
      await waitFor('the purge failure logged', () => lines.some((l) => l.msg === 'outbox retention purge failed'));
      await append(2);
      await waitFor('rows after the failed purge published', async () => (await unpublished()) === 0);
    });
    const failed = lines.find((l) => l.msg === 'outbox retention purge failed')!;
    expect(failed).to.include({ level: 50, component: 'outbox-relay' });
    expect((failed.err as { message: string }).message).to.include('test: outbox delete refused');
  });

  it('stop() during a round returns when the round ends, not at the next poll', async () => {
    await append(3);
    const gate = heldPublishes();
    const relay = newRelay({ nats: gate.wrap(fx.nc), pollIntervalMs: 60_000 });
    relay.start();
    await waitFor('the round publishing, PubAcks held', () => gate.waiting() === 3);
    const stopping = relay.stop().then(() => 'stopped');
    gate.release();
    expect(await Promise.race([stopping, sleep(3_000).then(() => 'still waiting after 3 s')])).to.equal('stopped');
    expect(await unpublished()).to.equal(0);
  });

  it('starts a large batch 100 publishes at a time, giving the event loop a turn in between', async () => {
    await append(250);
    let startedBeforeNextTurn = 0;
    const gate = heldPublishes({
      onPublish: (n) => {
        if (n === 1) setImmediate(() => (startedBeforeNextTurn = gate.waiting()));
      },
    });
    const relay = newRelay({ nats: gate.wrap(fx.nc), batchSize: 250 });
    const round = relay.relayOnce();
    await waitFor('all 250 publishes started', () => gate.waiting() === 250);
    gate.release();
    expect(await round).to.equal(250);
    expect(startedBeforeNextTurn).to.equal(100);
  });

  it('starts the first 100 publishes in the turn its claim returns: the turn is given up between slices only', async () => {
    await append(3);
    const gate = heldPublishes();
    let startedByNextTurn: number | undefined;
    // Queued as the claim's rows arrive: it runs at the first turn the relay gives up after them.
    const listener = (_response: unknown, query: { sql: string }) => {
      if (CLAIM_SQL.test(query.sql)) setImmediate(() => (startedByNextTurn ??= gate.waiting()));
    };
    fx.db.on('query-response', listener);
    try {
      const round = newRelay({ nats: gate.wrap(fx.nc) }).relayOnce();
      await waitFor('all 3 publishes started', () => gate.waiting() === 3);
      gate.release();
      expect(await round).to.equal(3);
    } finally {
      fx.db.off('query-response', listener);
    }
    expect(startedByNextTurn).to.equal(3);
  });

  it('purges again once exactly cleanupIntervalMs has passed since the last purge (Date.now stubbed)', async () => {
    const realNow = Date.now;
    const start = realNow();
    let now = start;
    Date.now = () => now;
    const purges = statementTimes(fx.db, PURGE_SQL);
    const claims = statementTimes(fx.db, CLAIM_SQL);
    /** Waits for two more rounds (each runs the purge check after it), then says how many purges ran. */
    const purgesAfterTwoRounds = async () => {
      const target = claims.times.length + 2;
      await waitFor('two more rounds', () => claims.times.length >= target);
      return purges.times.length;
    };
    try {
      newRelay({ pollIntervalMs: 20, cleanupIntervalMs: 1_000 }).start();
      await waitFor('the first purge', () => purges.times.length === 1);
      now = start + 999;
      expect(await purgesAfterTwoRounds(), '999 ms after the first purge').to.equal(1);
      now = start + 1_000;
      expect(await purgesAfterTwoRounds(), '1000 ms after it').to.equal(2);
    } finally {
      Date.now = realNow;
      purges.stop();
      claims.stop();
    }
  });

  it('logs a crashed loop as fatal instead of leaving an unhandled rejection (the last guard)', async () => {
    const lines: Record<string, unknown>[] = [];
    // A logger that fails on error(): the round-failure handler itself throws, so the loop dies.
    const logger: Logger = pino(
      {
        level: 'debug',
        hooks: {
          logMethod(args, method, level) {
            if (level === 50) throw new Error('test: log sink down');
            method.apply(this, args);
          },
        },
      },
      { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
    );
    await append(1);
    await withOutboxRefusing('update', async () => {
      newRelay({ logger, pollIntervalMs: 20 }).start();
      await waitFor('the crash logged', () => lines.some((l) => l.msg === 'outbox relay loop crashed'));
    });
    const crashed = lines.find((l) => l.msg === 'outbox relay loop crashed')!;
    expect(crashed).to.include({ level: 60, component: 'outbox-relay' });
    expect((crashed.err as { message: string }).message).to.equal('test: log sink down');
  });
});
