import type { Knex } from 'knex';
import {
  AckPolicy,
  DeliverPolicy,
  headers,
  nanos,
  type ConsumerConfig,
  type ConsumerMessages,
  type JsMsg,
  type NatsConnection,
} from 'nats';
import { isUuid } from '#libs/ids/uuid.js';
import { prepared } from '#libs/db/prepared.js';
import type { Logger } from '#libs/logging/logger.js';
import type { CrashPoints } from '#libs/process/crash-points.js';
import { endSpan } from '#libs/telemetry/trace-context.js';
import {
  CORRELATION_ID_HEADER,
  DEAD_LETTER_CONSUMER_HEADER,
  DEAD_LETTER_REASON_HEADER,
  EVENT_TYPE_HEADER,
  MSG_ID_HEADER,
  toHeaderValue,
} from './headers.js';
import { isJetStreamNotFound } from './jetstream-errors.js';
import { serverVersionAtLeast, subjectMatches } from './subjects.js';
import { inProcessSpan } from './trace-headers.js';
import { createWaiter } from './wait.js';

/** One event as the handler sees it. */
export interface InboxMessage {
  /** Event id (the Nats-Msg-Id header); the inbox key. */
  id: string;
  subject: string;
  data: Uint8Array;
  /** Protobuf message name from the Larder-Event-Type header, when present. */
  eventType?: string;
  correlationId?: string;
  /** 1 on first delivery. */
  deliveryCount: number;
}

/** What a handler can ask of the consumer besides its transaction. */
export interface InboxContext {
  /**
   * Runs `work` once the inbox transaction has committed (after the ack), in
   * the order asked; never when it rolls back. A hook that throws or rejects
   * is logged, never retried, and changes nothing about the message.
   */
  afterCommit(work: () => void | Promise<void>): void;
}

/** Applies the event's effect inside trx; throwing rolls back the effect and the inbox row together. */
export type InboxHandler = (msg: InboxMessage, trx: Knex.Transaction, context: InboxContext) => Promise<void>;

export interface InboxConsumerOptions {
  db: Knex;
  nats: NatsConnection;
  logger: Logger;
  stream: string;
  durableName: string;
  /**
   * The consumer's name in the inbox (default: durableName). Durables that share
   * one (subject-consumers.ts) dedupe together, also against the events an
   * earlier durable of that name already applied.
   */
  inboxName?: string;
  /** Subjects this consumer wants; empty means the whole stream. */
  filterSubjects: readonly string[];
  /** Deliveries before giving up and dead-lettering. Default 5; must exceed backoffMs.length (server rule). */
  maxDeliver?: number;
  /** Delay before delivery n+1 after delivery n failed (last value repeats). Default 1 s, 5 s, 15 s, 30 s. */
  backoffMs?: readonly number[];
  /**
   * Requested ack wait. Note: when backoff is set, nats-server replaces ack_wait
   * with backoff[0]; long handlers are kept alive with progress acks instead.
   */
  ackWaitMs?: number;
  /** Dead letters go to `${prefix}.${original subject}`. Default 'deadletter'. */
  deadLetterSubjectPrefix?: string;
  /** Messages pulled ahead of processing. Default 10. */
  prefetch?: number;
  handle: InboxHandler;
  /**
   * A cheap read before the inbox transaction: true when the event's effect is
   * already in place for good (or can never apply). Then the message is acked
   * with nothing written: one round trip instead of four or more. Only for
   * effects that, once in place, never change back: a redelivered copy gets the
   * same answer, so this check deduplicates it as the inbox row would.
   */
  alreadyApplied?: (msg: InboxMessage) => Promise<boolean>;
  /** Test-only crash points ('consumer-after-commit'); none by default. */
  crash?: CrashPoints;
}

export interface InboxConsumerStats {
  /** Messages whose handler committed, or whose effect was already in place (alreadyApplied). */
  processed: number;
  /** Messages skipped because the inbox already held their event id. */
  duplicates: number;
  /** Handler (or transaction) failures, counting each failed delivery. */
  failures: number;
  deadLettered: number;
  /** Deliveries received with a delivery count above 1. */
  redeliveries: number;
}

export interface InboxConsumer {
  /** The durable consumer's name (metrics label). */
  readonly name: string;
  /** Ensures the durable consumer exists, then starts pulling in the background. */
  start(): Promise<void>;
  /** Finishes the message being handled, hands back the prefetched ones, stops pulling. */
  stop(): Promise<void>;
  stats(): InboxConsumerStats;
}

const DEFAULT_BACKOFF_MS = [1_000, 5_000, 15_000, 30_000] as const;
/** Bound on waiting for the dead letter to reach the server before terminating the original. */
const DEAD_LETTER_FLUSH_TIMEOUT_MS = 2_000;
/**
 * Life of each pull request (the client's default is 30 s). On a cluster, a pull
 * waiting at a consumer leader that dies is answered by nobody; the client notices
 * only by missed idle heartbeats (half of this) or the pull's end, and then pulls
 * from the new leader. 5 s bounds that stall; an idle consumer pays one pull per 5 s.
 */
const PULL_EXPIRES_MS = 5_000;
/** Pause before re-subscribing when pulling failed (stream missing, broker gone). */
const RESUBSCRIBE_DELAY_MS = 1_000;

/**
 * A durable JetStream pull consumer with an inbox: each message is applied in one
 * database transaction together with its inbox row (consumer, event id), and
 * acknowledged only after that commits. A redelivery of an applied event (ack
 * lost, ack late, event re-published after the duplicate window) finds the inbox
 * row and changes nothing. A failing message is retried with back-off and, after
 * the last delivery, published to the dead-letter subject and terminated, so it
 * never holds up the messages behind it.
 */
export function createInboxConsumer(options: InboxConsumerOptions): InboxConsumer {
  const { db, nats, stream, durableName, handle } = options;
  const maxDeliver = options.maxDeliver ?? 5;
  const backoffMs = [...(options.backoffMs ?? DEFAULT_BACKOFF_MS)];
  const ackWaitMs = options.ackWaitMs ?? 30_000;
  const deadLetterPrefix = options.deadLetterSubjectPrefix ?? 'deadletter';
  const prefetch = options.prefetch ?? 10;
  const filterSubjects = [...options.filterSubjects];
  const log = options.logger.child({ component: 'inbox-consumer', stream, consumer: durableName });

  if (!Number.isInteger(maxDeliver) || maxDeliver < 1) throw new Error('maxDeliver must be a positive integer');
  if (backoffMs.length >= maxDeliver) {
    // nats-server refuses the consumer otherwise; fail at construction with a clearer message.
    throw new Error(`maxDeliver (${maxDeliver}) must be greater than the number of backoff steps (${backoffMs.length})`);
  }

  const counters: InboxConsumerStats = { processed: 0, duplicates: 0, failures: 0, deadLettered: 0, redeliveries: 0 };
  const waiter = createWaiter();
  let stopping = false;
  let messages: ConsumerMessages | undefined;
  let loop: Promise<void> | undefined;
  /** Set when the server cannot filter on several subjects (< 2.10): we filter here. */
  let clientFilter: ((subject: string) => boolean) | undefined;
  let progressIntervalMs = ackWaitMs / 2;

  async function ensureConsumer(): Promise<void> {
    const jsm = await nats.jetstreamManager();
    const filter: Pick<ConsumerConfig, 'filter_subject' | 'filter_subjects'> = {
      filter_subject: undefined,
      filter_subjects: undefined,
    };
    if (filterSubjects.length === 1) {
      filter.filter_subject = filterSubjects[0];
    } else if (filterSubjects.length > 1) {
      if (serverVersionAtLeast(nats.info?.version, 2, 10)) {
        filter.filter_subjects = filterSubjects;
      } else {
        // Multiple filter subjects arrived in nats-server 2.10. On older servers the
        // consumer reads the whole stream and acks what it does not want.
        clientFilter = (subject) => filterSubjects.some((f) => subjectMatches(f, subject));
        log.warn(
          { filterSubjects, serverVersion: nats.info?.version },
          'server cannot filter on several subjects; filtering in the client',
        );
      }
    }
    const wanted: Partial<ConsumerConfig> = {
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(ackWaitMs),
      max_deliver: maxDeliver,
      backoff: backoffMs.map((ms) => nanos(ms)),
      ...filter,
    };

    let exists = true;
    try {
      await jsm.consumers.info(stream, durableName);
    } catch (err) {
      if (!isJetStreamNotFound(err)) throw err;
      exists = false;
    }
    const info = exists
      ? // update() merges into the current config; undefined filter keys drop stale filters.
        await jsm.consumers.update(stream, durableName, wanted)
      : await jsm.consumers.add(stream, { durable_name: durableName, deliver_policy: DeliverPolicy.All, ...wanted });

    // The server may have replaced ack_wait (it does when backoff is set): keep the
    // message alive at half of what it actually applies, whichever is shorter.
    const effectiveAckWaitMs = Math.min(info.config.ack_wait ?? nanos(ackWaitMs), nanos(backoffMs[0] ?? ackWaitMs)) / 1e6;
    progressIntervalMs = Math.max(100, effectiveAckWaitMs / 2);
  }

  function retryDelayMs(deliveryCount: number): number {
    if (backoffMs.length === 0) return 0;
    return backoffMs[Math.min(deliveryCount - 1, backoffMs.length - 1)]!;
  }

  async function deadLetter(msg: JsMsg, reason: string): Promise<void> {
    const h = headers();
    for (const key of msg.headers?.keys() ?? []) {
      for (const value of msg.headers!.values(key)) h.append(key, value);
    }
    h.set(DEAD_LETTER_REASON_HEADER, toHeaderValue(reason));
    h.set(DEAD_LETTER_CONSUMER_HEADER, durableName);
    const subject = `${deadLetterPrefix}.${msg.subject}`;
    try {
      nats.publish(subject, msg.data, { headers: h });
      // Core publish is fire-and-forget: wait (bounded) until the server has it before
      // giving up the original, so a crash right after does not lose both.
      await withTimeout(nats.flush(), DEAD_LETTER_FLUSH_TIMEOUT_MS);
    } catch (err) {
      log.error({ err, subject }, 'dead letter may not have reached the server');
    }
    // No reason argument: nats-server 2.9 does not recognise "+TERM <reason>" and
    // silently ignores the whole term, leaving the message pending until ack_wait.
    // The reason travels in the dead letter's headers and the log instead.
    msg.term();
    counters.deadLettered++;
    log.error(
      {
        eventId: msg.headers?.get(MSG_ID_HEADER),
        subject: msg.subject,
        deadLetterSubject: subject,
        deliveries: msg.info.deliveryCount,
        reason,
      },
      'message dead-lettered',
    );
  }

  /**
   * One delivery in a CONSUMER span, a child of the relay's publish span named by
   * the message's traceparent: the handler's statements and logs are in the trace.
   */
  function processTraced(msg: JsMsg): Promise<void> {
    const eventId = msg.headers?.get(MSG_ID_HEADER) ?? '';
    return inProcessSpan(msg, { eventId, consumer: durableName }, async (span) => {
      const failure = await processMessage(msg);
      endSpan(span, failure);
    });
  }

  /** Handles one delivery; resolves to the handler's error when it failed (the message is then retried or dead-lettered). */
  async function processMessage(msg: JsMsg): Promise<unknown> {
    const deliveryCount = msg.info.deliveryCount;
    if (deliveryCount > 1) counters.redeliveries++;
    if (clientFilter && !clientFilter(msg.subject)) {
      msg.ack();
      return;
    }
    const id = msg.headers?.get(MSG_ID_HEADER) ?? '';
    if (!isUuid(id)) {
      // Without an event id the inbox cannot dedupe; retrying would not add one.
      counters.failures++;
      const reason = `missing or invalid ${MSG_ID_HEADER} header`;
      await deadLetter(msg, reason);
      return reason;
    }

    const inboxMessage: InboxMessage = {
      id,
      subject: msg.subject,
      data: msg.data,
      eventType: msg.headers?.get(EVENT_TYPE_HEADER) || undefined,
      correlationId: msg.headers?.get(CORRELATION_ID_HEADER) || undefined,
      deliveryCount,
    };
    // Progress acks stop the server from redelivering while a slow handler still runs.
    const keepAlive = setInterval(() => msg.working(), progressIntervalMs);
    // Asked for by the handler; kept only if its transaction commits.
    let afterCommit: (() => void | Promise<void>)[] = [];
    let failure: unknown;
    try {
      let duplicate = false;
      // Nothing to apply, now or on any redelivery: no inbox row either.
      if (!(await options.alreadyApplied?.(inboxMessage))) {
        await db.transaction(async (trx) => {
          const inserted = await prepared(
            trx('inbox')
              .insert({ consumer: options.inboxName ?? durableName, event_id: id, subject: msg.subject })
              .onConflict(['consumer', 'event_id'])
              .ignore()
              .returning('event_id'),
          );
          duplicate = inserted.length === 0;
          if (!duplicate) await handle(inboxMessage, trx, { afterCommit: (work) => void afterCommit.push(work) });
        });
      }
      clearInterval(keepAlive);
      if (!duplicate) options.crash?.reached('consumer-after-commit');
      // Ack only after commit: a crash before this line means redelivery, which the inbox absorbs.
      msg.ack();
      if (duplicate) {
        counters.duplicates++;
        log.debug({ eventId: id, subject: msg.subject }, 'duplicate delivery skipped');
      } else {
        counters.processed++;
      }
    } catch (err) {
      clearInterval(keepAlive);
      afterCommit = [];
      failure = err;
      counters.failures++;
      if (deliveryCount >= maxDeliver) {
        await deadLetter(msg, errorMessage(err));
      } else {
        const delayMs = retryDelayMs(deliveryCount);
        log.warn({ err, eventId: id, subject: msg.subject, deliveryCount, retryInMs: delayMs }, 'handler failed; will retry');
        msg.nak(delayMs);
      }
    }
    // Outside the try above: a failing hook must not nak (or dead-letter) a committed message.
    for (const work of afterCommit) {
      try {
        await work();
      } catch (err) {
        log.error({ err, eventId: id, subject: msg.subject }, 'after-commit hook failed');
      }
    }
    return failure;
  }

  async function pullLoop(): Promise<void> {
    while (!stopping) {
      try {
        const consumer = await nats.jetstream().consumers.get(stream, durableName);
        messages = await consumer.consume({ max_messages: prefetch, expires: PULL_EXPIRES_MS });
        // Stopped while subscribing: close, and let the loop below drain the iterator
        // (awaiting close() here would wait for an iterator nobody reads, forever).
        if (stopping) void messages.close();
        for await (const msg of messages) {
          if (stopping) {
            // Prefetched but not started: hand it back for immediate redelivery.
            msg.nak();
            continue;
          }
          await processTraced(msg);
        }
      } catch (err) {
        if (!stopping) log.error({ err }, 'pulling from consumer failed; retrying');
      }
      // The iterator ends on its own only when something went wrong; do not spin.
      if (!stopping) await waiter.wait(RESUBSCRIBE_DELAY_MS, { interruptible: false });
    }
  }

  return {
    name: durableName,
    async start() {
      if (loop) return;
      stopping = false;
      await ensureConsumer();
      loop = pullLoop().catch((err: unknown) => {
        log.fatal({ err }, 'inbox consumer loop crashed');
      });
    },
    async stop() {
      stopping = true;
      waiter.interrupt();
      // close() ends the iterator after the message in hand; pullLoop naks what is left.
      await messages?.close();
      await loop;
      loop = undefined;
      messages = undefined;
    },
    stats() {
      return { ...counters };
    },
  };
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
