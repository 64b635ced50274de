import { expect } from 'chai';
import { ReadCache } from '../../read-cache.js';

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function cache(options: Partial<ConstructorParameters<typeof ReadCache>[0]> = {}) {
  const c = new ReadCache<{ v: number }>({
    maxEntries: 100,
    maxBytes: 1_000_000,
    ttlMs: 60_000,
    fallbackTtlMs: 50,
    kinds: ['things'],
    ...options,
  });
  c.setReceiving(true);
  return c;
}

describe('ReadCache (libs/cache/read-cache.ts)', () => {
  it('serves what was stored, counting hits and misses per kind', () => {
    const c = cache();
    expect(c.get('things:1')).to.equal(undefined);
    expect(c.store(c.begin(), 'things:1', { v: 1 })).to.equal(true);
    expect(c.get('things:1')).to.deep.equal({ v: 1 });
    expect(c.counts().get('things')).to.deep.include({ hits: 1, misses: 1 });
    expect(c.sizes().get('things')!.entries).to.equal(1);
  });

  it('refuses to store a read that began before an invalidation: it may predate the change', () => {
    const c = cache();
    const token = c.begin();
    // The change commits and its invalidation runs while the read is in the database.
    c.invalidateKey('things:1');
    expect(c.store(token, 'things:1', { v: 0 })).to.equal(false);
    expect(c.get('things:1')).to.equal(undefined);
    // A read begun after the invalidation stores.
    expect(c.store(c.begin(), 'things:1', { v: 1 })).to.equal(true);
  });

  it('drops what an invalidation touches and counts it', () => {
    const c = cache();
    for (const v of [1, 2, 3]) c.store(c.begin(), `things:${v}`, { v });
    expect(c.invalidate((_key, value) => value.v >= 2)).to.equal(2);
    expect(c.get('things:1')).to.deep.equal({ v: 1 });
    expect(c.get('things:2')).to.equal(undefined);
    expect(c.counts().get('things')!.invalidations).to.equal(2);
  });

  it('while not receiving, serves nothing older than the fallback TTL; receiving again drops everything', async () => {
    const c = cache();
    c.store(c.begin(), 'things:old', { v: 1 });
    await delay(80);
    c.setReceiving(false);
    expect(c.get('things:old'), 'older than the fallback TTL').to.equal(undefined);
    c.store(c.begin(), 'things:new', { v: 2 });
    expect(c.get('things:new')).to.deep.equal({ v: 2 });
    await delay(80);
    expect(c.get('things:new'), 'its fallback TTL passed').to.equal(undefined);
    c.store(c.begin(), 'things:new', { v: 3 });
    c.setReceiving(true);
    expect(c.get('things:new'), 'what was stored while deaf is dropped').to.equal(undefined);
  });

  it("counts an entry's age from when its read began: a slow read while not receiving serves nothing older than the fallback TTL", async () => {
    const c = cache();
    c.setReceiving(false);
    const slow = c.begin();
    await delay(80);
    c.store(slow, 'things:slow', { v: 1 });
    expect(c.get('things:slow'), 'its read began more than the fallback TTL ago').to.equal(undefined);
  });

  it('is bounded by entries and by bytes, counting evictions', () => {
    const byEntries = cache({ maxEntries: 2 });
    for (const v of [1, 2, 3]) byEntries.store(byEntries.begin(), `things:${v}`, { v });
    expect(byEntries.sizes().get('things')!.entries).to.equal(2);
    expect(byEntries.counts().get('things')!.evictions).to.equal(1);
    const byBytes = cache({ maxBytes: 100 });
    for (let v = 0; v < 20; v += 1) byBytes.store(byBytes.begin(), `things:${v}`, { v });
    expect(byBytes.sizes().get('things')!.bytes).to.be.at.most(100);
    expect(byBytes.counts().get('things')!.evictions).to.be.greaterThan(0);
  });
});
