import { expect } from 'chai';
import { CatalogCache, pageMayHold, type CatalogProduct } from '../../domain/catalog/catalog-cache.js';

const id = (n: number) => `018bcfe5-6800-7000-8000-${n.toString(16).padStart(12, '0')}`;
const product = (n: number, categoryIds: string[] = []): CatalogProduct => ({
  id: id(n),
  sku: `SKU-${n}`,
  name: `Product ${n}`,
  description: '',
  price: { currencyCode: 'EUR', minorUnits: 100 },
  categoryIds,
  lowStockThreshold: 0,
  version: 1,
  createdAt: new Date(0),
  updatedAt: new Date(0),
});
const noFilter = { includeDeleted: false };

describe('catalog cache: which entries a change touches', () => {
  describe('pageMayHold: a keyset page in id order covers (after, last] — or (after, ∞) when it is the last page', () => {
    const middle = { afterId: id(10), nextAfterId: id(20), products: [] };
    const last = { afterId: id(20), products: [] };
    const first = { nextAfterId: id(10), products: [] };
    it('a change inside the range: the product can enter, leave or change the page', () => {
      expect(pageMayHold(middle, id(11))).to.equal(true);
      expect(pageMayHold(middle, id(20))).to.equal(true);
      expect(pageMayHold(first, id(1))).to.equal(true);
    });
    it('a change outside it cannot alter the page (a page starts after its key and ends at its last row)', () => {
      expect(pageMayHold(middle, id(10))).to.equal(false);
      expect(pageMayHold(middle, id(21))).to.equal(false);
      expect(pageMayHold(first, id(11))).to.equal(false);
      expect(pageMayHold(last, id(5))).to.equal(false);
    });
    it('a new product (a later UUIDv7) lands only on last pages', () => {
      expect(pageMayHold(last, id(1_000))).to.equal(true);
      expect(pageMayHold(middle, id(1_000))).to.equal(false);
    });
  });

  function filled() {
    const cache = new CatalogCache({ maxEntries: 100, maxBytes: 1_000_000, ttlMs: 60_000, fallbackTtlMs: 1_000 });
    cache.entries.setReceiving(true);
    const record = (n: number, categoryIds: string[] = []) => ({
      ...product(n, categoryIds),
      stock: {
        productId: id(n),
        locationId: '',
        available: 1,
        reserved: 0,
        sold: 0,
        safetyStock: 0,
        availableToSell: 1,
        inTransit: 0,
        lowStockThreshold: 0,
        updatedAt: new Date(0),
      },
    });
    cache.storeProduct(cache.begin(), record(1, ['cat']));
    cache.storeProduct(cache.begin(), record(2));
    cache.storePage(cache.begin(), noFilter, 2, { nextAfterId: id(2), products: [product(1, ['cat']), product(2)] });
    cache.storePage(cache.begin(), noFilter, 2, { afterId: id(2), products: [product(3)] });
    cache.storePage(cache.begin(), { ...noFilter, categoryId: 'other' }, 2, { categoryId: 'other', products: [] });
    cache.storeCategory(cache.begin(), { id: 'cat', name: 'Cat', description: '', createdAt: new Date(0), updatedAt: new Date(0) });
    cache.storeCategoryPage(cache.begin(), undefined, 10, { categories: [] });
    return cache;
  }

  it('a product change drops the product and the pages whose range holds it, nothing else', () => {
    const cache = filled();
    expect(cache.productChanged(id(2))).to.equal(3); // the product, the first page, and the empty last page of category "other" (open range)
    expect(cache.product(id(1))).to.not.equal(undefined);
    expect(cache.page(noFilter, id(2), 2)).to.not.equal(undefined);
    expect(cache.page(noFilter, undefined, 2)).to.equal(undefined);
    expect(cache.category('cat')).to.not.equal(undefined);
  });

  it('a category change drops it and every category page; a category delete also the products in it and pages showing or filtering by it', () => {
    const cache = filled();
    expect(cache.categoryChanged('cat')).to.equal(2);
    expect(cache.product(id(1))).to.not.equal(undefined);
    const again = filled();
    again.categoryDeleted('other');
    expect(again.page({ ...noFilter, categoryId: 'other' }, undefined, 2)).to.equal(undefined);
    expect(again.product(id(1))).to.not.equal(undefined);
    again.categoryDeleted('cat');
    expect(again.product(id(1))).to.equal(undefined);
    expect(again.product(id(2))).to.not.equal(undefined);
    expect(again.page(noFilter, undefined, 2)).to.equal(undefined);
    expect(again.page(noFilter, id(2), 2)).to.not.equal(undefined);
  });
});
