import { nanos, StorageType, type NatsConnection, type StreamInfo } from 'nats';
import { isJetStreamNotFound } from './jetstream-errors.js';

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
 * Creates the stream, or brings the settings we own (subjects, duplicate window)
 * up to date on an existing one. Safe to call from every replica at start-up.
 * File storage: messages survive a broker restart (PostgreSQL still remains the
 * source of truth, since JetStream acknowledges before it fsyncs).
 */
export async function ensureStream(nc: NatsConnection, spec: StreamSpec): Promise<StreamInfo> {
  const jsm = await nc.jetstreamManager();
  const wanted = {
    subjects: [...spec.subjects],
    duplicate_window: nanos(spec.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS),
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
      // Another replica created it between our info and add: fall through to update.
      existing = await jsm.streams.info(spec.name).catch(() => {
        throw err;
      });
    }
  }
  const config = existing.config;
  const upToDate =
    config.duplicate_window === wanted.duplicate_window &&
    config.subjects.length === wanted.subjects.length &&
    config.subjects.every((subject, i) => subject === wanted.subjects[i]);
  if (upToDate) return existing;
  // update() merges into the server's current config, so only our fields change.
  return jsm.streams.update(spec.name, wanted);
}
