import { BinaryWriter } from '@bufbuild/protobuf/wire';
import type { Money } from '#libs/contracts/larder/common/v1/money.js';
import {
  InventoryServiceService,
  type GetProductResponse,
  type ListProductsResponse,
} from '#libs/contracts/larder/inventory/v1/inventory_service.js';
import { Product, StockLevel } from '#libs/contracts/larder/inventory/v1/resources.js';
import type { CatalogProduct } from '../domain/catalog/catalog-cache.js';
import type { ProductView } from '../domain/catalog/read-products.js';
import { productMessage, toStockLevelMessage } from './to-proto.js';

/**
 * The encoding of products answered from the catalog cache
 * (docs/catalog-cache.md#what-it-gains). A cached product's catalog part does
 * not change while it is cached, so its message and bytes are made once and
 * kept beside it; an answer writes the bytes around the stock level read for
 * this call. The bytes are those of `Product.encode`: fields 1-7 (`head`), the
 * stock level (field 8), fields 9-12 (`tail`), in field order as the generated
 * encoder writes them (services/inventory/test/unit/product-wire.test.ts
 * compares the two).
 */

interface EncodedCatalog {
  /** The catalog part as a Product message without its stock level (to-proto.ts maps it). */
  message: Product;
  head: Uint8Array;
  tail: Uint8Array;
}

// Keyed by the cache's own object: an entry the cache drops (invalidated,
// evicted, expired) takes its encoding with it when it is collected.
const encodings = new WeakMap<CatalogProduct, EncodedCatalog>();

const EMPTY: Product = Product.create();

function encodedCatalog(catalog: CatalogProduct): EncodedCatalog {
  let encoded = encodings.get(catalog);
  if (!encoded) {
    const message = productMessage(catalog, undefined);
    const { etag, createTime, updateTime, deleteTime } = message;
    encoded = {
      message,
      head: Product.encode({ ...message, etag: '', createTime: undefined, updateTime: undefined, deleteTime: undefined }).finish(),
      tail: Product.encode({ ...EMPTY, etag, createTime, updateTime, deleteTime }).finish(),
    };
    encodings.set(catalog, encoded);
  }
  return encoded;
}

/**
 * A Product message of a cached catalog part and a fresh stock level. Its
 * fields read through to the kept catalog message (a whole Product to anyone
 * who reads it); the serializers below write it from the kept bytes instead.
 */
export class CachedProductMessage implements Product {
  constructor(
    readonly encoded: EncodedCatalog,
    readonly stockLevel: StockLevel | undefined,
  ) {}
  get id(): string {
    return this.encoded.message.id;
  }
  get sku(): string {
    return this.encoded.message.sku;
  }
  get name(): string {
    return this.encoded.message.name;
  }
  get description(): string {
    return this.encoded.message.description;
  }
  get price(): Money | undefined {
    return this.encoded.message.price;
  }
  get categoryIds(): string[] {
    return this.encoded.message.categoryIds;
  }
  get lowStockThreshold(): number {
    return this.encoded.message.lowStockThreshold;
  }
  get etag(): string {
    return this.encoded.message.etag;
  }
  get createTime(): Date | undefined {
    return this.encoded.message.createTime;
  }
  get updateTime(): Date | undefined {
    return this.encoded.message.updateTime;
  }
  get deleteTime(): Date | undefined {
    return this.encoded.message.deleteTime;
  }
}

/** GetProduct's and ListProducts' product: a cached catalog part is answered from its kept bytes. */
export const toProductViewMessage = (view: ProductView): Product =>
  view.cached
    ? new CachedProductMessage(encodedCatalog(view.catalog), toStockLevelMessage(view.stock))
    : productMessage(view.catalog, toStockLevelMessage(view.stock));

/** Writes a product's bytes (without its tag and length) into `writer`. */
function writeProduct(product: Product, writer: BinaryWriter): void {
  if (!(product instanceof CachedProductMessage)) {
    Product.encode(product, writer);
    return;
  }
  const { head, tail } = product.encoded;
  writer.raw(head);
  if (product.stockLevel !== undefined) StockLevel.encode(product.stockLevel, writer.uint32(66).fork()).join();
  writer.raw(tail);
}

// A view of the writer's bytes: the generated serializers copy them into a new Buffer.
const asBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

export function serializeGetProductResponse(value: GetProductResponse): Buffer {
  const writer = new BinaryWriter();
  if (value.product !== undefined) {
    writeProduct(value.product, writer.uint32(10).fork());
    writer.join();
  }
  return asBuffer(writer.finish());
}

export function serializeListProductsResponse(value: ListProductsResponse): Buffer {
  const writer = new BinaryWriter();
  for (const product of value.products) {
    writeProduct(product, writer.uint32(10).fork());
    writer.join();
  }
  if (value.nextPageToken !== '') writer.uint32(18).string(value.nextPageToken);
  return asBuffer(writer.finish());
}

/** The inventory service definition with the two catalog reads' responses written by the serializers above. */
export const inventoryServiceDefinition: typeof InventoryServiceService = {
  ...InventoryServiceService,
  getProduct: { ...InventoryServiceService.getProduct, responseSerialize: serializeGetProductResponse },
  listProducts: { ...InventoryServiceService.listProducts, responseSerialize: serializeListProductsResponse },
};
