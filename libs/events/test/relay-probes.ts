import type { Knex } from 'knex';
import type { JetStreamClient, NatsConnection, PubAck } from 'nats';

/**
 * Holds back the PubAcks of every JetStream publish made through the wrapped
 * connection until release(): the publishes really go to the broker, only
 * their answers wait. Shows how many publishes a relay has in flight at once,
 * and keeps a round in flight for as long as a test needs. onPublish sees the
 * count as each publish starts.
 */
export function heldPublishes(options: { onPublish?(waiting: number): void } = {}): {
  wrap(nc: NatsConnection): NatsConnection;
  /** Publishes started whose answer is being held. */
  waiting(): number;
  release(): void;
} {
  let waiting = 0;
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));

  const publish =
    (target: JetStreamClient['publish']) =>
    async (...args: Parameters<JetStreamClient['publish']>): Promise<PubAck> => {
      waiting++;
      options.onPublish?.(waiting);
      // Settled at once, so a failure while held is not an unhandled rejection.
      const outcome = target(...args).then(
        (ack) => ({ ack }),
        (error: unknown) => ({ error }),
      );
      await released;
      waiting--;
      const result = await outcome;
      if ('error' in result) throw result.error;
      return result.ack;
    };

  return {
    wrap: (nc) => withPublish(nc, publish),
    waiting: () => waiting,
    release: () => release(),
  };
}

/**
 * A connection whose JetStream publishes all reject with `reason`, whatever it
 * is (nats.js rejects with its NatsError; this stands for anything else).
 */
export function publishesRejectingWith(nc: NatsConnection, reason: unknown): NatsConnection {
  return withPublish(nc, () => () => Promise.reject(reason));
}

/** The connection, with every JetStream client it makes publishing through wrap(its publish). */
function withPublish(nc: NatsConnection, wrap: (publish: JetStreamClient['publish']) => JetStreamClient['publish']): NatsConnection {
  const wrapJetStream = (js: JetStreamClient): JetStreamClient =>
    new Proxy(js, {
      get(target, prop) {
        if (prop !== 'publish') return bind(target, prop);
        return wrap(target.publish.bind(target));
      },
    });
  return new Proxy(nc, {
    get(target, prop) {
      if (prop !== 'jetstream') return bind(target, prop);
      return (...args: Parameters<NatsConnection['jetstream']>) => wrapJetStream(target.jetstream(...args));
    },
  });
}

function bind(target: object, prop: string | symbol): unknown {
  const value: unknown = Reflect.get(target, prop, target);
  return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
}

/** When each statement matching `pattern` was sent (Date.now()), until stop(): a relay's rounds and purges, timed. */
export function statementTimes(db: Knex, pattern: RegExp): { times: number[]; gaps(): number[]; stop(): void } {
  const times: number[] = [];
  const listener = (query: { sql: string }) => {
    if (pattern.test(query.sql)) times.push(Date.now());
  };
  db.on('query', listener);
  return {
    times,
    gaps: () => times.slice(1).map((t, i) => t - times[i]!),
    stop: () => db.off('query', listener),
  };
}

/** A relay round's claim and the retention purge, as they appear in the SQL. */
export const CLAIM_SQL = /for update skip locked/i;
export const PURGE_SQL = /^delete from outbox/i;
