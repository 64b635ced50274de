import type { Knex } from 'knex';
import { headers, NatsError, type JetStreamClient, type NatsConnection, type PubAck } from 'nats';
import { prepared } from '#libs/db/prepared.js';
import type { Logger } from '#libs/logging/logger.js';
import { noCrashPoints, type CrashPoints } from '#libs/process/crash-points.js';
import { endSpan, type TraceCarrier } from '#libs/telemetry/trace-context.js';
import { CORRELATION_ID_HEADER, EVENT_TYPE_HEADER } from './headers.js';
import { startPublishSpan } from './trace-headers.js';
import { createWaiter } from './wait.js';

export interface OutboxRelayOptions {
  db: Knex;
  nats: NatsConnection;
  logger: Logger;
  /**
   * Rows claimed, published concurrently and marked together per round. Default
   * 500: per row, a round's four statements cost less the more rows share them.
   */
  batchSize?: number;
  /** Idle poll period; wake() and full batches skip it. Default 200 ms. */
  pollIntervalMs?: number;
  /**
   * Least time from the start of one round to the start of the next unless the
   * last one was full. Default 20 ms: under load every commit wakes the relay,
   * and a round per wake costs four statements and a transaction for a handful
   * of rows; waiting a little lets the rows of many commits share one round.
   */
  roundSpacingMs?: number;
  /** Published rows are deleted after this long (kept for replays until then). Default 7 days. */
  retentionMs?: number;
  /** How long to wait for each PubAck. Default 5 s. */
  publishTimeoutMs?: number;
  /** Ceiling of the back-off while nothing can be published (broker down). Default 5 s. */
  maxBackoffMs?: number;
  /** How often the retention purge runs. Default 1 minute. */
  cleanupIntervalMs?: number;
  /**
   * How long stop() may take to publish what is committed (OUTBOX_DRAIN_MS).
   * Default 2 s. On stop the loop ends, then rounds run until the outbox is
   * empty, a round publishes nothing (broker down) or this much time has passed
   * since stop() was called; a PubAck still outstanding then counts as a failed
   * publish, so the stop ends within this bound (plus one mark statement)
   * whether or not the broker answers. 0: no further round, no wait for PubAcks.
   */
  drainMs?: number;
  /** Test-only crash points ('relay-mid-batch'); none by default. */
  crash?: CrashPoints;
}

export interface OutboxBacklog {
  /** Unpublished rows. */
  count: number;
  /** Age of the oldest unpublished row (0 when there is none): the relay's lag. */
  oldestAgeMs: number;
}

export interface OutboxRelayStats {
  /** Rows acknowledged by JetStream and marked published. */
  published: number;
  /** PubAcks flagged duplicate: a re-publish JetStream dropped (ack lost earlier, or another relay raced). */
  duplicates: number;
  /** Publish attempts that failed (timeout, no stream, broker down); those rows are retried. */
  publishFailures: number;
}

export interface OutboxRelay {
  start(): void;
  /**
   * Ends the loop, then publishes what is committed for up to drainMs (see
   * OutboxRelayOptions.drainMs) and resolves; rows left are published by the
   * next relay to run.
   */
  stop(): Promise<void>;
  /** New rows were committed: run a round now instead of at the next poll. */
  wake(): void;
  /** One round outside the loop (tests, tooling); resolves to the rows published. */
  relayOnce(): Promise<number>;
  backlog(): Promise<OutboxBacklog>;
  stats(): OutboxRelayStats;
}

interface OutboxRow {
  id: string;
  subject: string;
  event_type: string;
  payload: Buffer;
  correlation_id: string | null;
  trace_context: TraceCarrier | null;
}

/** `work` on the first call only. */
function once(work: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    work();
  };
}

/** A row's publish outcome: its PubAck, or why it was not acknowledged. */
type Outcome = { ack: PubAck; error?: undefined } | { ack?: undefined; error: string };

interface RoundResult {
  claimed: number;
  published: number;
  failed: number;
}

/** Cap per purge statement, so one purge after a long pause does not hold a huge delete. */
const PURGE_CHUNK = 10_000;

/**
 * Publishes are started this many at a time, with a turn of the event loop in
 * between: building a publish costs CPU on the thread that also serves
 * requests, and a request arriving meanwhile waits for one slice, not a batch.
 */
const PUBLISH_SLICE = 100;

/**
 * Publishes outbox rows to JetStream. Work is found by state — unpublished rows,
 * claimed with FOR UPDATE SKIP LOCKED — never by an id watermark (ids and
 * sequences commit out of order, a watermark silently skips rows). SKIP LOCKED
 * also makes replicas safe together: each row is claimed by one relay at a time.
 * A row is marked published only after its PubAck; if the mark is lost (crash,
 * commit failure) the row is published again and JetStream drops it by
 * Nats-Msg-Id within the stream's duplicate window.
 *
 * A round is one transaction on one connection: claim a batch, publish all of
 * it concurrently, then record every row's outcome (published, or attempt and
 * error) in one statement, commit. The relay never holds more than that one
 * connection; it sits idle in transaction while the PubAcks come back, which
 * is what keeps another relay off these rows.
 *
 * Publishing within a batch is concurrent, so events of one batch can reach the
 * stream out of created_at order (and a failed row is retried after later rows
 * went out): consumers must not rely on cross-event order.
 */
export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { db, nats, logger } = options;
  const batchSize = options.batchSize ?? 500;
  const pollIntervalMs = options.pollIntervalMs ?? 200;
  const roundSpacingMs = options.roundSpacingMs ?? 20;
  const retentionMs = options.retentionMs ?? 7 * 24 * 60 * 60 * 1000;
  const publishTimeoutMs = options.publishTimeoutMs ?? 5_000;
  const maxBackoffMs = options.maxBackoffMs ?? 5_000;
  const cleanupIntervalMs = options.cleanupIntervalMs ?? 60_000;
  const drainMs = options.drainMs ?? 2_000;
  const crash = options.crash ?? noCrashPoints;
  const log = logger.child({ component: 'outbox-relay' });

  const js: JetStreamClient = nats.jetstream();
  const waiter = createWaiter();
  const counters: OutboxRelayStats = { published: 0, duplicates: 0, publishFailures: 0 };
  let running = false;
  let loop: Promise<void> | undefined;
  let lastPurgeAt = 0;
  /** The current stop's drain time; a new one per start. */
  let drain = createDeadline();

  function publishRow(row: OutboxRow): Promise<PubAck> {
    const h = headers();
    h.set(EVENT_TYPE_HEADER, row.event_type);
    if (row.correlation_id) h.set(CORRELATION_ID_HEADER, row.correlation_id);
    // Continues the trace of the request that wrote the row, and writes traceparent into h.
    const span = startPublishSpan(row, h);
    return js.publish(row.subject, row.payload, { msgID: row.id, headers: h, timeout: publishTimeoutMs }).then(
      (ack) => {
        endSpan(span);
        return ack;
      },
      (error: unknown) => {
        endSpan(span, error);
        throw error;
      },
    );
  }

  /** Every row's outcome, settled; a failed publish is a value, never a rejection. */
  async function publishAll(rows: readonly OutboxRow[]): Promise<Outcome[]> {
    const pending: Promise<Outcome>[] = [];
    // A crash here leaves some rows in JetStream and none marked: the restart publishes them again.
    const firstAck = rows.length > 1 ? once(() => crash.reached('relay-mid-batch')) : () => undefined;
    for (let i = 0; i < rows.length; i += PUBLISH_SLICE) {
      if (i > 0) await new Promise((resolve) => setImmediate(resolve));
      for (const row of rows.slice(i, i + PUBLISH_SLICE)) {
        pending.push(
          publishRow(row).then(
            (ack): Outcome => {
              firstAck();
              return { ack };
            },
            (err: unknown): Outcome => ({ error: errorMessage(err) }),
          ),
        );
      }
    }
    return settledWithinDrain(pending);
  }

  /**
   * The outcomes, or — once a stop's drain time is up — a failure for every PubAck
   * still unanswered: the row stays unpublished and the next relay retries it.
   * The wait is cut through `drain.racing`, registered for this round only: a
   * reaction per row on one promise that lives as long as the relay would keep
   * every published row's closures alive (peak RSS grew by ~90 MB in the bench).
   */
  async function settledWithinDrain(pending: readonly Promise<Outcome>[]): Promise<Outcome[]> {
    const results: (Outcome | undefined)[] = new Array(pending.length);
    const all = Promise.all(pending.map((outcome, i) => outcome.then((value) => (results[i] = value))));
    await drain.racing(all);
    return results.map((result) => result ?? { error: STOPPED_BEFORE_PUBACK });
  }

  async function runRound(): Promise<RoundResult> {
    return db.transaction(async (trx) => {
      const rows: OutboxRow[] = await prepared(
        trx('outbox')
          .select('id', 'subject', 'event_type', 'payload', 'correlation_id', 'trace_context')
          .whereNull('published_at')
          .orderBy('created_at')
          .limit(batchSize)
          .forUpdate()
          .skipLocked(),
      );
      if (rows.length === 0) return { claimed: 0, published: 0, failed: 0 };

      // The row locks are held while publishing; other relays skip these rows meanwhile.
      const outcomes = await publishAll(rows);

      // One statement for the whole batch: acknowledged rows are marked published,
      // the others count an attempt and keep their error, so they are retried.
      // `= any(array(…))` is an index condition: joined on r alone, the planner
      // takes the function's estimate of 100 rows and hashes them against a
      // sequential scan of the outbox (8 ms at 20,000 rows, for a batch of 8).
      await prepared(
        trx.raw(
          `with r as (select * from jsonb_to_recordset(?::jsonb) as r(id uuid, error text))
          update outbox as o
            set published_at = case when r.error is null then now() end,
                publish_attempts = o.publish_attempts + (r.error is not null)::int,
                last_error = coalesce(r.error, o.last_error)
           from r
          where o.id = any(array(select id from r)) and o.id = r.id`,
          [JSON.stringify(rows.map((row, i) => ({ id: row.id, error: outcomes[i]!.error ?? null })))],
        ),
      );

      const errors = new Set<string>();
      let published = 0;
      for (const outcome of outcomes) {
        if (outcome.error !== undefined) {
          errors.add(outcome.error);
        } else {
          published++;
          if (outcome.ack.duplicate) counters.duplicates++;
        }
      }
      const failed = rows.length - published;
      if (failed > 0) {
        log.warn({ failed, published, errors: [...errors].slice(0, 3) }, 'outbox rows not published; will retry');
      }
      return { claimed: rows.length, published, failed };
    });
  }

  /** Counts only after the transaction committed: a rolled-back mark means "not published yet". */
  async function runCountedRound(): Promise<RoundResult> {
    const result = await runRound();
    counters.published += result.published;
    counters.publishFailures += result.failed;
    return result;
  }

  async function purgeIfDue(): Promise<void> {
    if (Date.now() - lastPurgeAt < cleanupIntervalMs) return;
    lastPurgeAt = Date.now();
    try {
      const deleted = await db.raw(
        `delete from outbox where id in (
           select id from outbox
           where published_at is not null and published_at < now() - make_interval(secs => ?)
           limit ?)`,
        [retentionMs / 1000, PURGE_CHUNK],
      );
      const count = (deleted as { rowCount?: number }).rowCount ?? 0;
      if (count > 0) log.info({ deleted: count }, 'purged published outbox rows past retention');
    } catch (err) {
      log.error({ err }, 'outbox retention purge failed');
    }
  }

  async function runLoop(): Promise<void> {
    // Rounds in a row that published nothing although there was work (or that failed
    // outright): the broker or the database is unreachable. Back off exponentially
    // instead of spinning, and let wake() not cut the back-off short.
    let fruitlessRounds = 0;
    let spaceFrom: number | undefined;
    while (running) {
      let delayMs = pollIntervalMs;
      const sinceLast = spaceFrom === undefined ? Infinity : performance.now() - spaceFrom;
      if (sinceLast < roundSpacingMs) {
        await waiter.wait(roundSpacingMs - sinceLast, { interruptible: false });
        if (!running) break;
      }
      spaceFrom = performance.now();
      waiter.clearWake();
      try {
        const result = await runCountedRound();
        if (result.claimed > 0 && result.published === 0) {
          fruitlessRounds++;
        } else {
          fruitlessRounds = 0;
          if (result.claimed === batchSize) {
            delayMs = 0; // more is probably waiting: go on at once
            spaceFrom = undefined;
          }
        }
      } catch (err) {
        fruitlessRounds++;
        log.error({ err }, 'outbox relay round failed');
      }
      await purgeIfDue();
      if (!running) break;
      if (fruitlessRounds > 0) {
        const backoffMs = Math.min(maxBackoffMs, pollIntervalMs * 2 ** (fruitlessRounds - 1));
        await waiter.wait(backoffMs, { interruptible: false });
      } else if (delayMs > 0) {
        await waiter.wait(delayMs, { interruptible: true });
      }
    }
  }

  /** After the loop ended: rounds until nothing is left, a round publishes nothing, or the drain time is up. */
  async function drainOutbox(): Promise<void> {
    let drained = 0;
    let rowsLeft = false;
    try {
      while (!drain.isPassed()) {
        const result = await runCountedRound();
        drained += result.published;
        // A full batch may have more behind it; a failed publish means the broker is not taking them now.
        const full = result.claimed === batchSize;
        const failed = result.published < result.claimed;
        rowsLeft = full || failed;
        if (!full || failed) break;
      }
    } catch (err) {
      rowsLeft = true;
      log.error({ err }, 'outbox relay drain round failed');
    }
    if (rowsLeft) log.warn({ drained, drainMs }, 'outbox rows left unpublished at stop; the next relay to run publishes them');
    else if (drained > 0) log.info({ drained }, 'outbox drained at stop');
  }

  return {
    start() {
      if (running) return;
      running = true;
      drain = createDeadline();
      loop = runLoop().catch((err: unknown) => {
        // runLoop catches everything itself; this is a last guard against an unhandled rejection.
        log.fatal({ err }, 'outbox relay loop crashed');
      });
    },
    async stop() {
      const wasRunning = running;
      running = false;
      drain.arm(drainMs);
      waiter.interrupt();
      await loop;
      loop = undefined;
      if (wasRunning && !drain.isPassed()) await drainOutbox();
      drain.disarm();
    },
    wake() {
      waiter.wake();
    },
    async relayOnce() {
      const result = await runCountedRound();
      return result.published;
    },
    async backlog() {
      const row = (await db('outbox')
        .whereNull('published_at')
        .first(
          db.raw('count(*)::int as count'),
          db.raw('coalesce(extract(epoch from now() - min(created_at)) * 1000, 0)::float8 as oldest_age_ms'),
        )) as { count: number; oldest_age_ms: number };
      return { count: row.count, oldestAgeMs: Math.max(0, row.oldest_age_ms) };
    },
    stats() {
      return { ...counters };
    },
  };
}

const STOPPED_BEFORE_PUBACK = 'the relay stopped before the PubAck came (drain time up)';

/**
 * A point in time a stop sets. `racing(work)` waits for `work`, or until the
 * point is reached, whichever comes first; each wait registers itself only
 * while it lasts, so nothing accumulates while the relay runs without a stop.
 */
function createDeadline() {
  let reached = false;
  let timer: NodeJS.Timeout | undefined;
  const waiting = new Set<() => void>();
  const pass = () => {
    reached = true;
    for (const cut of waiting) cut();
    waiting.clear();
  };
  return {
    isPassed: () => reached,
    async racing(work: Promise<unknown>): Promise<void> {
      if (reached) return;
      let cut!: () => void;
      const cutShort = new Promise<void>((resolve) => (cut = resolve));
      waiting.add(cut);
      try {
        await Promise.race([work, cutShort]);
      } finally {
        waiting.delete(cut);
      }
    },
    arm(ms: number) {
      if (timer || reached) return;
      if (ms <= 0) pass();
      else timer = setTimeout(pass, ms);
    },
    /** The stop is over: no timer keeps the process alive. */
    disarm() {
      clearTimeout(timer);
    },
  };
}

/** nats.js errors often carry only a code as message ("503", "TIMEOUT"); make last_error readable. */
function errorMessage(err: unknown): string {
  // A stream's refusal (full, message too big) keeps the server's reason here; a full stream's message is just "503".
  if (err instanceof NatsError && err.api_error?.description) return err.api_error.description;
  // On a cluster also while the stream's leader is being elected (a node was lost): retried like any failure.
  if (err instanceof NatsError && err.code === '503')
    return 'no JetStream stream accepts this subject, or its leader is being elected (503 no responders)';
  if (err instanceof NatsError && err.code === 'TIMEOUT') return 'no PubAck before the publish timeout';
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
