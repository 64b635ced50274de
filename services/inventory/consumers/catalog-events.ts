import { INVENTORY_EVENTS as EVENTS } from '#libs/events/catalog.js';
import type { CatalogCache } from '../domain/catalog/catalog-cache.js';

/**
 * The catalog cache's invalidations from the product and category events
 * (docs/catalog-cache.md): every replica hears every one, its own included,
 * and drops what the change touches. A thin handler: the rules of what a
 * change touches are the cache's (domain/catalog/catalog-cache.ts).
 */

/** The subjects every replica listens to (a plain subscription each, libs/events/replica-listener.ts). */
export const CATALOG_SUBJECTS = [
  EVENTS.productCreated,
  EVENTS.productUpdated,
  EVENTS.productDeleted,
  EVENTS.productUndeleted,
  EVENTS.categoryCreated,
  EVENTS.categoryUpdated,
  EVENTS.categoryDeleted,
].map((spec) => spec.subject);

/** Drops what the event's change touches; returns when the change happened (the event's occur_time). */
export function applyCatalogEvent(cache: CatalogCache, subject: string, data: Uint8Array): Date | undefined {
  switch (subject) {
    case EVENTS.productCreated.subject:
    case EVENTS.productUpdated.subject:
    case EVENTS.productDeleted.subject:
    case EVENTS.productUndeleted.subject: {
      // The four product events share their shape (metadata, product); ProductUpdated's extra field is skipped.
      const event = EVENTS.productUpdated.codec.decode(data);
      if (event.product) cache.productChanged(event.product.id);
      return event.metadata?.occurTime;
    }
    case EVENTS.categoryCreated.subject:
    case EVENTS.categoryUpdated.subject: {
      const event = EVENTS.categoryUpdated.codec.decode(data);
      if (event.category) cache.categoryChanged(event.category.id);
      return event.metadata?.occurTime;
    }
    case EVENTS.categoryDeleted.subject: {
      const event = EVENTS.categoryDeleted.codec.decode(data);
      if (event.category) cache.categoryDeleted(event.category.id);
      return event.metadata?.occurTime;
    }
    default:
      return undefined;
  }
}

/**
 * When invalidations count as arriving: connected (the listener says so) and
 * no event came later than `lateMs` recently. A late event means others may be
 * as late: the cache drops everything and keeps to its short TTL for `lateMs`.
 */
export function catalogInvalidation(cache: CatalogCache, lateMs: number, onFallback: (reason: 'disconnected' | 'late_event') => void) {
  let connected = false;
  let lateUntil = 0;
  const update = () => cache.entries.setReceiving(connected && Date.now() >= lateUntil);
  return {
    onReceiving(receiving: boolean) {
      if (connected && !receiving) onFallback('disconnected');
      connected = receiving;
      update();
    },
    handle(subject: string, data: Uint8Array) {
      const occurredAt = applyCatalogEvent(cache, subject, data);
      if (occurredAt && Date.now() - occurredAt.getTime() > lateMs) {
        onFallback('late_event');
        lateUntil = Date.now() + lateMs;
        cache.entries.clear();
        update();
        setTimeout(update, lateMs + 1).unref();
      }
    },
  };
}
