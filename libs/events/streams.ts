import { nanos, NatsError, StorageType, type NatsConnection, type StreamInfo } from 'nats';
import { isJetStreamNotFound, isJetStreamRefusal } from './jetstream-errors.js';

export interface StreamSpec {
  name: string;
  subjects: readonly string[];
  /**
   * How long JetStream remembers a Nats-Msg-Id. The relay re-publishes a row
   * whose PubAck it did not see (timeout, broker restart, relay crash before
   * marking); any re-publish inside this window is dropped as a duplicate.
   * Default 2 hours: relay outages shorter than that never double-publish.
   */
  duplicateWindowMs?: number;
}

export const DEFAULT_DUPLICATE_WINDOW_MS = 2 * 60 * 60 * 1000;

/** Events from the inventory service (reservations, stock changes). */
export const INVENTORY_STREAM: StreamSpec = Object.freeze({ name: 'INVENTORY', subjects: Object.freeze(['inventory.>']) });

/** Events from the order service (placed, confirmed, cancelled). */
export const ORDERS_STREAM: StreamSpec = Object.freeze({ name: 'ORDERS', subjects: Object.freeze(['orders.>']) });

/**
 * The server would not give a stream the replica count asked for (a single
 * server refuses more than one; a cluster refuses more replicas than it has
 * servers). Retrying cannot fix this: it is the configuration that is wrong.
 */
export class StreamReplicasError extends Error {
  constructor(
    readonly stream: string,
    /** The stream's replica count now; undefined when it does not exist yet. */
    readonly current: number | undefined,
    readonly wanted: number,
    readonly reason: string,
  ) {
    const now = current === undefined ? 'does not exist yet' : `has ${current} replica(s)`;
    super(`stream ${stream} ${now}, ${wanted} wanted, and the server refused: ${reason}`);
    this.name = 'StreamReplicasError';
  }
}

export interface EnsureStreamOptions {
  /**
   * Copies of the stream a cluster keeps (num_replicas); default 1. Durable
   * consumers inherit it. An existing stream with another count is scaled by a
   * stream update, which a cluster performs live.
   */
  replicas?: number;
}

/**
 * Creates the stream, or brings the settings we own (subjects, duplicate window,
 * replicas) up to date on an existing one. Safe to call from every replica at start-up.
 * File storage: messages survive a broker restart (PostgreSQL still remains the
 * source of truth, since JetStream acknowledges before it fsyncs).
 */
export async function ensureStream(nc: NatsConnection, spec: StreamSpec, options: EnsureStreamOptions = {}): Promise<StreamInfo> {
  const jsm = await nc.jetstreamManager();
  const replicas = options.replicas ?? 1;
  const wanted = {
    subjects: [...spec.subjects],
    duplicate_window: nanos(spec.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS),
    num_replicas: replicas,
  };
  let existing: StreamInfo | undefined;
  try {
    existing = await jsm.streams.info(spec.name);
  } catch (err) {
    if (!isJetStreamNotFound(err)) throw err;
  }
  if (!existing) {
    try {
      return await jsm.streams.add({ name: spec.name, storage: StorageType.File, ...wanted });
    } catch (err) {
      // No answer (a broker starting, a cluster electing): not a verdict on the settings; the caller tries again.
      if (!isJetStreamRefusal(err)) throw err;
      // Another replica created it between our info and add: fall through to update.
      existing = await jsm.streams.info(spec.name).catch((infoErr: unknown) => {
        if (isJetStreamNotFound(infoErr) && replicas > 1) throw new StreamReplicasError(spec.name, undefined, replicas, reasonOf(err));
        throw err;
      });
    }
  }
  const config = existing.config;
  const upToDate =
    config.duplicate_window === wanted.duplicate_window &&
    (config.num_replicas || 1) === replicas &&
    config.subjects.length === wanted.subjects.length &&
    config.subjects.every((subject, i) => subject === wanted.subjects[i]);
  if (upToDate) return existing;
  // update() merges into the server's current config, so only our fields change.
  try {
    return await jsm.streams.update(spec.name, wanted);
  } catch (err) {
    const current = config.num_replicas || 1;
    if (current !== replicas && isJetStreamRefusal(err)) throw new StreamReplicasError(spec.name, current, replicas, reasonOf(err));
    throw err;
  }
}

function reasonOf(err: unknown): string {
  if (err instanceof NatsError && err.api_error?.description) return err.api_error.description;
  return err instanceof Error ? err.message : String(err);
}
