import type { NatsConnection, Status, Subscription } from 'nats';
import type { Logger } from '#libs/logging/logger.js';

/**
 * Every message of some subjects, on every replica of a service: what a
 * per-process cache needs to hear of every change, whichever replica made it.
 *
 * A plain NATS subscription, not a JetStream consumer. The relay's JetStream
 * publish is an ordinary NATS message on its subject, so every subscriber
 * receives it as the stream stores it; a durable consumer shared by the
 * replicas would hand each event to one of them, and an ephemeral consumer
 * per replica would leave server state behind each crashed process. What a
 * subscription does not give, replay of what was published while it was
 * disconnected, a cache does not need: `onReceiving(false)` says from when
 * messages may be missed, and `onReceiving(true)` (after the server has the
 * subscriptions again: a flush) from when they are not, so the cache drops
 * what it holds instead of replaying.
 */
export interface ReplicaListenerOptions {
  /** Reported in the consumer metrics, e.g. 'catalog-cache'. */
  name: string;
  nats: NatsConnection;
  subjects: readonly string[];
  logger: Logger;
  /** Called for each message, in order of arrival; a throw is logged and counted as a failure. */
  handle(subject: string, data: Uint8Array): void;
  /** false: messages may be missed from now on (disconnected); true: none will be, until the next false. */
  onReceiving(receiving: boolean): void;
}

export interface ReplicaListener {
  name: string;
  stop(): Promise<void>;
  stats(): { processed: number; duplicates: number; failures: number; deadLettered: number; redeliveries: number };
}

/** Status events after which messages may have been missed. */
const LOSING = new Set(['disconnect', 'reconnecting', 'staleConnection']);

export async function listenOnEveryReplica(options: ReplicaListenerOptions): Promise<ReplicaListener> {
  const { nats, logger } = options;
  const stats = { processed: 0, duplicates: 0, failures: 0, deadLettered: 0, redeliveries: 0 };
  const subscriptions: Subscription[] = options.subjects.map((subject) =>
    nats.subscribe(subject, {
      callback: (error, message) => {
        if (error) {
          logger.warn({ err: error, subject }, 'subscription error');
          return;
        }
        try {
          options.handle(message.subject, message.data);
          stats.processed += 1;
        } catch (handleError) {
          stats.failures += 1;
          logger.error({ err: handleError, subject: message.subject }, 'could not apply a message');
        }
      },
    }),
  );
  // Each status change bumps it; a flush answered after a newer change says nothing about now.
  let generation = 0;
  const confirm = async () => {
    const mine = ++generation;
    await nats.flush();
    if (mine === generation) options.onReceiving(true);
  };
  const statuses = nats.status() as AsyncIterable<Status> & { stop?(): void };
  void (async () => {
    for await (const status of statuses) {
      if (LOSING.has(status.type)) {
        generation += 1;
        options.onReceiving(false);
      } else if (status.type === 'reconnect') {
        confirm().catch((error: unknown) => logger.warn({ err: error }, 'flush after reconnect failed'));
      }
    }
  })();
  await confirm();
  return {
    name: options.name,
    stats: () => ({ ...stats }),
    async stop() {
      generation += 1;
      statuses.stop?.();
      // Nothing is served after this (the server drained first), so the cache is left as it is.
      for (const subscription of subscriptions) subscription.unsubscribe();
    },
  };
}
