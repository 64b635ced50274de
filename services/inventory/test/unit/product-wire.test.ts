import { expect } from 'chai';
import { GetProductResponse, ListProductsResponse } from '#libs/contracts/larder/inventory/v1/inventory_service.js';
import { Product } from '#libs/contracts/larder/inventory/v1/resources.js';
import {
  CachedProductMessage,
  serializeGetProductResponse,
  serializeListProductsResponse,
  toProductViewMessage,
} from '../../contract/product-wire.js';
import { toProductMessage } from '../../contract/to-proto.js';
import type { CatalogProduct } from '../../domain/catalog/catalog-cache.js';
import type { ProductRecord, StockRecord } from '../../domain/types.js';

const id = (n: number) => `018bcfe5-6800-7000-8000-${n.toString(16).padStart(12, '0')}`;

const stock = (n: number, locations?: StockRecord[]): StockRecord => ({
  productId: id(n),
  locationId: locations ? '' : id(1000 + n),
  available: n * 7,
  reserved: n % 3,
  sold: n === 0 ? 0 : 2 ** 40 + n,
  safetyStock: n % 2,
  availableToSell: Math.max(0, n * 7 - (n % 2)),
  inTransit: n % 4,
  lowStockThreshold: n % 5,
  updatedAt: new Date(Date.UTC(2026, 11, 7, 12, 0, n, n)),
  locations,
});

/** Products covering every field at its default and away from it: empty strings, no categories, zero threshold, deleted, non-ASCII. */
const catalog = (n: number): CatalogProduct => ({
  id: id(n),
  sku: `SKU-${n}`,
  name: n % 3 === 0 ? `Brötchen ${n} 🥖` : `Product ${n}`,
  description: n % 2 === 0 ? '' : 'x'.repeat(n * 40),
  price: { currencyCode: 'EUR', minorUnits: n === 0 ? 0 : 199 * n },
  categoryIds: Array.from({ length: n % 4 }, (_, i) => id(500 + i)),
  lowStockThreshold: n % 5,
  version: n + 1,
  createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, n)),
  updatedAt: new Date(Date.UTC(2026, 5, 1, 0, 0, 0, n)),
  deletedAt: n % 4 === 3 ? new Date(Date.UTC(2026, 11, 1)) : undefined,
});

const record = (n: number): ProductRecord => ({
  ...catalog(n),
  stock: stock(n, n % 2 === 0 ? [stock(n + 100), stock(n + 200)] : undefined),
});

describe('product wire: a cached catalog part is written from its kept bytes', () => {
  const records = Array.from({ length: 12 }, (_, n) => record(n));

  it('a ListProducts page is byte for byte what the generated encoder writes, page token included', () => {
    for (const nextPageToken of ['', 'eyJhZnRlciI6IngifQ']) {
      const plain = { products: records.map(toProductMessage), nextPageToken };
      const cached = {
        products: records.map((r) => toProductViewMessage({ catalog: catalog(Number(r.sku.slice(4))), stock: r.stock, cached: true })),
        nextPageToken,
      };
      expect(cached.products.every((p) => p instanceof CachedProductMessage)).to.equal(true);
      const bytes = serializeListProductsResponse(cached);
      expect(Buffer.compare(bytes, Buffer.from(ListProductsResponse.encode(plain).finish()))).to.equal(0);
      expect(ListProductsResponse.decode(bytes)).to.deep.equal(ListProductsResponse.decode(ListProductsResponse.encode(plain).finish()));
    }
  });

  it('GetProduct likewise, and an empty answer and a product that is not cached are encoded as before', () => {
    for (const r of records) {
      const view = { catalog: catalog(Number(r.sku.slice(4))), stock: r.stock, cached: true };
      expect(
        Buffer.compare(
          serializeGetProductResponse({ product: toProductViewMessage(view) }),
          GetProductResponse.encode({ product: toProductMessage(r) }).finish(),
        ),
      ).to.equal(0);
      const uncached = toProductViewMessage({ ...view, cached: false });
      expect(uncached).to.not.be.instanceOf(CachedProductMessage);
      expect(
        Buffer.compare(
          serializeGetProductResponse({ product: uncached }),
          GetProductResponse.encode({ product: toProductMessage(r) }).finish(),
        ),
      ).to.equal(0);
    }
    expect(serializeGetProductResponse({ product: undefined }).length).to.equal(0);
    expect(serializeListProductsResponse({ products: [], nextPageToken: '' }).length).to.equal(0);
  });

  it('the same catalog part with other stock: the kept bytes are reused, the stock is this call’s', () => {
    const part = catalog(5);
    const first = serializeGetProductResponse({ product: toProductViewMessage({ catalog: part, stock: stock(5), cached: true }) });
    const later = serializeGetProductResponse({
      product: toProductViewMessage({ catalog: part, stock: { ...stock(5), available: 1, reserved: 9 }, cached: true }),
    });
    expect(GetProductResponse.decode(first).product!.stockLevel!.available).to.equal(35);
    expect(GetProductResponse.decode(later).product!.stockLevel).to.include({ available: 1, reserved: 9 });
    expect(GetProductResponse.decode(later).product!.name).to.equal(part.name);
  });

  it('read as a message, a cached product has every field of the plain one', () => {
    for (const r of records) {
      const message = toProductViewMessage({ catalog: catalog(Number(r.sku.slice(4))), stock: r.stock, cached: true });
      expect(Product.toJSON(message)).to.deep.equal(Product.toJSON(toProductMessage(r)));
    }
  });
});
