import { LRUCache } from 'lru-cache';

/**
 * A bounded in-process cache of read results that invalidations keep true
 * (the inventory's catalog cache, docs/catalog-cache.md). lru-cache does the
 * bounding (entries, bytes, TTL); this adds what keeping it true needs:
 *
 * - **No stale fill.** A read that missed takes a token (`begin()`) before it
 *   asks the database and may store its answer only if no invalidation ran
 *   since: otherwise an answer read before a change committed, arriving after
 *   the change's invalidation, would be stored and served until its TTL.
 * - **A short TTL while invalidations cannot arrive** (`setReceiving(false)`):
 *   entries older than `fallbackTtlMs` are not served, new ones live that long.
 *   Back to receiving, everything is dropped: what was missed is unknown.
 *
 * Counters per kind of entry (the key's prefix before ':'), for the metrics.
 */
export interface ReadCacheOptions {
  /** Most entries held. */
  maxEntries: number;
  /** Most bytes held (each entry's JSON size, an estimate of its weight). */
  maxBytes: number;
  /** Longest an entry lives, whatever happens: the bound when an invalidation is lost unnoticed. */
  ttlMs: number;
  /** Longest an entry is served while invalidations cannot arrive. */
  fallbackTtlMs: number;
  /** The kinds of entries (key prefixes), so each has its series from the start. */
  kinds: readonly string[];
}

export interface ReadCacheCounters {
  hits: number;
  misses: number;
  evictions: number;
  invalidations: number;
}

interface Entry<V> {
  value: V;
  storedAt: number;
  bytes: number;
}

/** What `begin()` returns: the invalidation count a fill must still see to be stored, and when its read began. */
export interface FillToken {
  epoch: number;
  at: number;
}

const kindOf = (key: string): string => key.slice(0, key.indexOf(':'));

export class ReadCache<V extends object> {
  private readonly lru: LRUCache<string, Entry<V>>;
  private readonly counters = new Map<string, ReadCacheCounters>();
  /** Grows with every invalidation; a fill whose token is older is refused. */
  private epoch = 0;
  private receiving = false;

  constructor(private readonly options: ReadCacheOptions) {
    for (const kind of options.kinds) this.counters.set(kind, { hits: 0, misses: 0, evictions: 0, invalidations: 0 });
    this.lru = new LRUCache<string, Entry<V>>({
      max: options.maxEntries,
      maxSize: options.maxBytes,
      maxEntrySize: Math.max(1, Math.floor(options.maxBytes / 4)),
      sizeCalculation: (entry) => Math.max(1, entry.bytes),
      ttl: options.ttlMs,
      dispose: (_entry, key, reason) => {
        if (reason === 'evict') this.count(key).evictions += 1;
      },
    });
  }

  private count(key: string): ReadCacheCounters {
    const kind = kindOf(key);
    let counters = this.counters.get(kind);
    if (!counters) this.counters.set(kind, (counters = { hits: 0, misses: 0, evictions: 0, invalidations: 0 }));
    return counters;
  }

  /** The cached value, or undefined (a miss). While not receiving, an entry older than the fallback TTL is a miss. */
  get(key: string): V | undefined {
    const entry = this.lru.get(key);
    if (entry && !this.receiving && performance.now() - entry.storedAt > this.options.fallbackTtlMs) {
      this.lru.delete(key);
      this.count(key).misses += 1;
      return undefined;
    }
    this.count(key)[entry ? 'hits' : 'misses'] += 1;
    return entry?.value;
  }

  /** Taken before reading what will be stored: see `store`. */
  begin(): FillToken {
    return { epoch: this.epoch, at: performance.now() };
  }

  /** Stores `value` unless an invalidation ran since `token` was taken (then the value may predate a change). */
  store(token: FillToken, key: string, value: V): boolean {
    if (token.epoch !== this.epoch) return false;
    // An entry's age counts from when its read began: the value may be as old as that, not younger.
    const entry = { value, storedAt: token.at, bytes: Buffer.byteLength(JSON.stringify(value)) };
    const fallbackLeft = this.options.fallbackTtlMs - (performance.now() - token.at);
    if (!this.receiving && fallbackLeft <= 0) return false;
    this.lru.set(key, entry, this.receiving ? {} : { ttl: Math.ceil(fallbackLeft) });
    return true;
  }

  /** Drops every entry `touched` says a change touches; fills begun before are refused. Returns how many. */
  invalidate(touched: (key: string, value: V) => boolean): number {
    this.epoch += 1;
    const keys: string[] = [];
    for (const [key, entry] of this.lru.entries()) if (touched(key, entry.value)) keys.push(key);
    for (const key of keys) {
      this.lru.delete(key);
      this.count(key).invalidations += 1;
    }
    return keys.length;
  }

  /** Drops one entry (and refuses fills begun before). */
  invalidateKey(key: string): void {
    this.epoch += 1;
    if (this.lru.delete(key)) this.count(key).invalidations += 1;
  }

  /** Drops everything (counted as invalidations): after invalidations may have been missed. */
  clear(): void {
    this.invalidate(() => true);
  }

  /**
   * Whether invalidations arrive. Turning false falls back to the short TTL;
   * turning true again drops everything, since what arrived meanwhile is unknown.
   */
  setReceiving(receiving: boolean): void {
    if (receiving === this.receiving) return;
    if (receiving) this.clear();
    else this.epoch += 1;
    this.receiving = receiving;
  }

  get isReceiving(): boolean {
    return this.receiving;
  }

  /** Hits, misses, evictions and invalidations per kind since start. */
  counts(): ReadonlyMap<string, ReadCacheCounters> {
    return this.counters;
  }

  /** Entries and bytes held per kind now (one pass over the cache: for a scrape, not a request). */
  sizes(): Map<string, { entries: number; bytes: number }> {
    const sizes = new Map([...this.counters.keys()].map((kind) => [kind, { entries: 0, bytes: 0 }]));
    for (const [key, entry] of this.lru.entries()) {
      const size = sizes.get(kindOf(key)) ?? { entries: 0, bytes: 0 };
      size.entries += 1;
      size.bytes += entry.bytes;
      sizes.set(kindOf(key), size);
    }
    return sizes;
  }
}
