import type { Product } from '#libs/contracts/larder/inventory/v1/resources.js';
import { invalid } from '#libs/errors/app-error.js';
import { rpcError } from '#libs/grpc/rpc-errors.js';
import { decodePageToken, encodePageToken } from '#libs/validation/page-token.js';
import * as v from '#libs/validation/fields.js';
import { toProductViewMessage } from '../contract/product-wire.js';
import { toProductMessage } from '../contract/to-proto.js';
import { createProduct } from '../domain/catalog/create-product.js';
import { getProduct, listProductPage } from '../domain/catalog/read-products.js';
import { setProductDeleted } from '../domain/catalog/delete-product.js';
import { updateProductFields } from '../domain/catalog/update-product.js';
import type { Money } from '#libs/money/money.js';
import { productNotFound, unknownCategory } from './rpc-errors.js';
import type { InventoryRpcs } from './scopes.js';

const MAX_MINOR_UNITS = 100_000_000_00; // 100 million in major units: no grocery item costs more.

export const productFields = {
  sku: (value: string | undefined) => {
    const sku = v.text('product.sku', value, { min: 1, max: 64 });
    if (!/^[A-Za-z0-9._-]+$/.test(sku)) throw invalid('product.sku', 'may only contain letters, digits, ".", "_" and "-"');
    return sku;
  },
  name: (value: string | undefined) => v.text('product.name', value, { min: 1, max: 200 }),
  description: (value: string | undefined) => v.text('product.description', value, { max: 2000 }),
  price: (value: Product['price']): Money => {
    if (!value) throw invalid('product.price', 'is required');
    return {
      currencyCode: v.currencyCode('product.price.currency_code', value.currencyCode),
      minorUnits: v.integer('product.price.minor_units', value.minorUnits, { min: 0, max: MAX_MINOR_UNITS }),
    };
  },
  threshold: (value: number | undefined) => v.integer('product.low_stock_threshold', value, { min: 0, max: 1_000_000 }),
  categoryIds: (value: string[] | undefined) =>
    v.distinctUuids('product.category_ids', v.listSize('product.category_ids', value, { min: 0, max: 50 })),
};

/** The product RPCs: each one's scope, errors and handler. */
export const productRpcs = {
  createProduct: {
    scope: 'catalog.write',
    errors: [rpcError('ALREADY_EXISTS', 'SKU_TAKEN', 'a product with this sku exists'), unknownCategory],
    async handle(deps, request, ctx) {
      const product = request.product;
      if (!product) throw invalid('product', 'is required');
      const created = await createProduct(deps, ctx, {
        sku: productFields.sku(product.sku),
        name: productFields.name(product.name),
        description: productFields.description(product.description),
        price: productFields.price(product.price),
        lowStockThreshold: productFields.threshold(product.lowStockThreshold),
        categoryIds: productFields.categoryIds(product.categoryIds),
        initialStock: v.integer('initial_stock', request.initialStock, { min: 0, max: 1_000_000 }),
      });
      return { product: toProductMessage(created) };
    },
  },

  getProduct: {
    scope: 'catalog.read',
    errors: [productNotFound],
    async handle(deps, request) {
      const product = await getProduct(deps, v.requireUuid('id', request.id), request.showDeleted);
      return { product: toProductViewMessage(product) };
    },
  },

  listProducts: {
    scope: 'catalog.read',
    errors: [],
    async handle(deps, request) {
      const pageSize = v.pageSize('page_size', request.pageSize);
      const filter = {
        categoryId: v.optionalUuid('category_id', request.categoryId),
        nameContains: v.text('name_contains', request.nameContains, { max: 200 }) || undefined,
        includeDeleted: request.showDeleted,
      };
      const afterId = decodePageToken('page_token', request.pageToken, filter);
      if (afterId !== undefined) v.requireUuid('page_token', afterId);
      const page = await listProductPage(deps, filter, afterId, pageSize);
      return {
        products: page.products.map(toProductViewMessage),
        nextPageToken: page.nextAfterId ? encodePageToken(page.nextAfterId, filter) : '',
      };
    },
  },

  updateProduct: {
    scope: 'catalog.write',
    errors: [productNotFound, rpcError('ABORTED', 'ETAG_MISMATCH', 'product.etag is not the current one'), unknownCategory],
    async handle(deps, request, ctx) {
      const product = request.product;
      if (!product) throw invalid('product', 'is required');
      const id = v.requireUuid('product.id', product.id);
      const paths = v.maskPaths('update_mask', request.updateMask, ['name', 'description', 'price', 'category_ids', 'low_stock_threshold']);
      const has = (path: string) => paths.includes(path);
      const expectedVersion = v.etagVersion('product.etag', product.etag);
      const updated = await updateProductFields(deps, ctx, {
        id,
        patch: {
          name: has('name') ? productFields.name(product.name) : undefined,
          description: has('description') ? productFields.description(product.description) : undefined,
          price: has('price') ? productFields.price(product.price) : undefined,
          lowStockThreshold: has('low_stock_threshold') ? productFields.threshold(product.lowStockThreshold) : undefined,
        },
        categoryIds: has('category_ids') ? productFields.categoryIds(product.categoryIds) : undefined,
        expectedVersion,
        changedFields: paths,
      });
      return { product: toProductMessage(updated) };
    },
  },

  deleteProduct: {
    scope: 'catalog.write',
    errors: [productNotFound],
    async handle(deps, request, ctx) {
      return { product: toProductMessage(await setProductDeleted(deps, ctx, v.requireUuid('id', request.id), true)) };
    },
  },

  undeleteProduct: {
    scope: 'catalog.write',
    errors: [productNotFound],
    async handle(deps, request, ctx) {
      return { product: toProductMessage(await setProductDeleted(deps, ctx, v.requireUuid('id', request.id), false)) };
    },
  },
} satisfies InventoryRpcs;
