import type { Product } from '#libs/contracts/larder/inventory/v1/resources.js';
import { delay } from '#test/support/free-port.js';
import { startTestInventory, type InventoryApi, type TestInventory } from './harness.js';

/**
 * Two inventory replicas on one database and one NATS, as behind a round-robin
 * balancer: what the catalog cache's tests write through one and read from the other.
 */
export interface TwoReplicas {
  a: TestInventory;
  b: TestInventory;
  stop(): Promise<void>;
}

export async function startTwoReplicas(options: { natsUrl?: string; env?: Record<string, string> } = {}): Promise<TwoReplicas> {
  // On whatever CATALOG_CACHE the run has (these tests are about the cache).
  const settings = { ...options, env: { CATALOG_CACHE: 'true', ...options.env } };
  const a = await startTestInventory(settings);
  // B shares A's database; only A drops it.
  const b = await startTestInventory({ ...settings, database: { ...a.database, drop: async () => undefined } });
  return {
    a,
    b,
    async stop() {
      await b.stop();
      await a.stop();
    },
  };
}

/** A read of version `etag` that started at `startedAt` (performance.now()). */
export interface Observation {
  startedAt: number;
  etag: number;
}

/**
 * How long after a newer version existed a read still returned an older one:
 * for each read, the time from the next version's `at` (its commit, or a time
 * the caller chose before or after it) to the read's start; 0 when every read
 * saw the newest version `at` before it started.
 */
export function worstStaleness(at: ReadonlyMap<number, number>, reads: readonly Observation[]): number {
  let worst = 0;
  for (const read of reads) {
    const newer = at.get(read.etag + 1);
    if (newer !== undefined && newer < read.startedAt) worst = Math.max(worst, read.startedAt - newer);
  }
  return worst;
}

/** Reads `read` in `readers` loops until `done()`, recording each answer's etag; bounded by `maxMs`. */
export async function hammer(
  readers: number,
  maxMs: number,
  done: () => boolean,
  read: () => Promise<Product | undefined>,
): Promise<Observation[]> {
  const reads: Observation[] = [];
  const deadline = performance.now() + maxMs;
  await Promise.all(
    Array.from({ length: readers }, async () => {
      while (!done() && performance.now() < deadline) {
        const startedAt = performance.now();
        const product = await read();
        if (product) reads.push({ startedAt, etag: Number(product.etag) });
        else await delay(1);
      }
    }),
  );
  return reads;
}

/** The product's first-page view on `api` (page of 10 of a catalogue where it is among the first). */
export async function inFirstPage(api: InventoryApi, id: string): Promise<Product | undefined> {
  const page = await api.listProducts({ pageSize: 10, pageToken: '', categoryId: '', nameContains: '', showDeleted: false });
  return page.products.find((p) => p.id === id);
}
