import { randomUUID } from 'node:crypto';
import { Client, credentials, Metadata, status as Code, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import type { AdjustStockRequest } from '#libs/contracts/larder/inventory/v1/inventory_service.js';
import { AdjustmentReason } from '#libs/contracts/larder/inventory/v1/resources.js';
import { errorInfoOf } from '#libs/grpc/status.js';
import { encodePageToken } from '#libs/validation/page-token.js';
import { ADMIN_KEY, createTestProduct, startTestInventory, type InventoryApi, type TestInventory } from './harness.js';

/**
 * Every InventoryService RPC fed bad input: each must answer INVALID_ARGUMENT
 * with an ErrorInfo naming the field at fault (proto snake_case path), and
 * none of them may change the database.
 */

const TABLES = [
  'products',
  'stock_levels',
  'stock_movements',
  'reservations',
  'reservation_items',
  'stock_adjustments',
  'outbox',
  'categories',
  'product_categories',
] as const;

const chars = (n: number, c = 'a') => c.repeat(n);
const INT32_MAX = 2 ** 31 - 1;
const INT32_MIN = -(2 ** 31);
const SERVICE = '/larder.inventory.v1.InventoryService';

interface Fixtures {
  productId: string;
  otherProductId: string;
  categoryId: string;
  orderId: string;
  productPageToken: string;
  categoryPageToken: string;
}

interface Case {
  name: string;
  call: (api: InventoryApi, f: Fixtures) => Promise<unknown>;
  /** The ErrorInfo metadata `field` the answer must name. */
  field: string;
}

const validProduct = () => ({
  sku: `VALID-${randomUUID().slice(0, 8)}`,
  name: 'Valid product',
  price: { currencyCode: 'EUR', minorUnits: 100 },
});
const adjust = (f: Fixtures, overrides: Partial<AdjustStockRequest> = {}): AdjustStockRequest => ({
  note: '',
  productId: f.productId,
  delta: 5,
  reason: AdjustmentReason.ADJUSTMENT_REASON_RESTOCK,
  idempotencyKey: `validation-${randomUUID()}`,
  ...overrides,
});

/** The matrix, grouped by RPC. */
const matrix: Record<string, Case[]> = {
  CreateProduct: [
    { name: 'missing product', field: 'product', call: (api) => api.createProduct({ initialStock: 1 }) },
    { name: 'missing sku', field: 'product.sku', call: (api) => api.createProduct({ product: { ...validProduct(), sku: '' } }) },
    { name: 'sku of only spaces', field: 'product.sku', call: (api) => api.createProduct({ product: { ...validProduct(), sku: '   ' } }) },
    {
      name: 'sku of 65 characters',
      field: 'product.sku',
      call: (api) => api.createProduct({ product: { ...validProduct(), sku: chars(65, 'S') } }),
    },
    {
      name: 'sku with a space and "!"',
      field: 'product.sku',
      call: (api) => api.createProduct({ product: { ...validProduct(), sku: 'BAD SKU!' } }),
    },
    {
      name: 'sku with a control character',
      field: 'product.sku',
      call: (api) => api.createProduct({ product: { ...validProduct(), sku: 'AB\u0001C' } }),
    },
    { name: 'missing name', field: 'product.name', call: (api) => api.createProduct({ product: { ...validProduct(), name: '' } }) },
    {
      name: 'name of only white space',
      field: 'product.name',
      call: (api) => api.createProduct({ product: { ...validProduct(), name: ' \t\n ' } }),
    },
    {
      name: 'name of 201 characters',
      field: 'product.name',
      call: (api) => api.createProduct({ product: { ...validProduct(), name: chars(201) } }),
    },
    {
      name: 'name with a NUL character',
      field: 'product.name',
      call: (api) => api.createProduct({ product: { ...validProduct(), name: 'Milk\u0000' } }),
    },
    {
      name: 'name with DEL',
      field: 'product.name',
      call: (api) => api.createProduct({ product: { ...validProduct(), name: 'Mi\u007flk' } }),
    },
    {
      name: 'name with a C1 control character',
      field: 'product.name',
      call: (api) => api.createProduct({ product: { ...validProduct(), name: 'Mi\u0085lk' } }),
    },
    {
      name: 'description of 2001 characters',
      field: 'product.description',
      call: (api) => api.createProduct({ product: { ...validProduct(), description: chars(2001) } }),
    },
    {
      name: 'description with an escape sequence',
      field: 'product.description',
      call: (api) => api.createProduct({ product: { ...validProduct(), description: '\u001b[31mred' } }),
    },
    {
      name: 'missing price',
      field: 'product.price',
      call: (api) => api.createProduct({ product: { ...validProduct(), price: undefined } }),
    },
    {
      name: 'currency "eur"',
      field: 'product.price.currency_code',
      call: (api) => api.createProduct({ product: { ...validProduct(), price: { currencyCode: 'eur', minorUnits: 100 } } }),
    },
    {
      name: 'currency "EURO"',
      field: 'product.price.currency_code',
      call: (api) => api.createProduct({ product: { ...validProduct(), price: { currencyCode: 'EURO', minorUnits: 100 } } }),
    },
    {
      name: 'currency ""',
      field: 'product.price.currency_code',
      call: (api) => api.createProduct({ product: { ...validProduct(), price: { currencyCode: '', minorUnits: 100 } } }),
    },
    {
      name: 'negative price',
      field: 'product.price.minor_units',
      call: (api) => api.createProduct({ product: { ...validProduct(), price: { currencyCode: 'EUR', minorUnits: -1 } } }),
    },
    {
      name: 'absurdly high price',
      field: 'product.price.minor_units',
      call: (api) => api.createProduct({ product: { ...validProduct(), price: { currencyCode: 'EUR', minorUnits: 10_000_000_001 } } }),
    },
    {
      name: 'negative low_stock_threshold',
      field: 'product.low_stock_threshold',
      call: (api) => api.createProduct({ product: { ...validProduct(), lowStockThreshold: -1 } }),
    },
    {
      name: 'malformed category id',
      field: 'product.category_ids[0]',
      call: (api) => api.createProduct({ product: { ...validProduct(), categoryIds: ['dairy'] } }),
    },
    {
      name: 'repeated category id',
      field: 'product.category_ids[1]',
      call: (api, f) => api.createProduct({ product: { ...validProduct(), categoryIds: [f.categoryId, f.categoryId.toUpperCase()] } }),
    },
    {
      name: 'unknown category (checked in the transaction, rolled back)',
      field: 'product.category_ids',
      call: (api) => api.createProduct({ product: { ...validProduct(), categoryIds: [randomUUID()] } }),
    },
    {
      name: 'negative initial_stock',
      field: 'initial_stock',
      call: (api) => api.createProduct({ product: validProduct(), initialStock: -1 }),
    },
    {
      name: 'initial_stock over 1,000,000',
      field: 'initial_stock',
      call: (api) => api.createProduct({ product: validProduct(), initialStock: 1_000_001 }),
    },
  ],
  GetProduct: [
    { name: 'missing id', field: 'id', call: (api) => api.getProduct({}) },
    { name: 'malformed id', field: 'id', call: (api) => api.getProduct({ id: 'not-a-uuid' }) },
    { name: 'UUID with trailing junk', field: 'id', call: (api, f) => api.getProduct({ id: `${f.productId}x` }) },
    { name: 'SQL in the id', field: 'id', call: (api) => api.getProduct({ id: "' OR 1=1 --" }) },
  ],
  ListProducts: [
    { name: 'page_size -1', field: 'page_size', call: (api) => api.listProducts({ pageSize: -1 }) },
    { name: 'page_size 1001', field: 'page_size', call: (api) => api.listProducts({ pageSize: 1001 }) },
    { name: 'page_size 2^31-1', field: 'page_size', call: (api) => api.listProducts({ pageSize: INT32_MAX }) },
    { name: 'garbage page_token', field: 'page_token', call: (api) => api.listProducts({ pageToken: 'garbage!!' }) },
    { name: 'base64 page_token that is not JSON', field: 'page_token', call: (api) => api.listProducts({ pageToken: 'Zm9vYmFy' }) },
    {
      name: 'forged page_token with a non-UUID key',
      field: 'page_token',
      call: (api) => api.listProducts({ pageToken: Buffer.from(JSON.stringify({ k: 'x', q: 'y' })).toString('base64url') }),
    },
    {
      name: 'page_token reused with another name filter',
      field: 'page_token',
      call: (api, f) => api.listProducts({ pageToken: f.productPageToken, nameContains: 'milk' }),
    },
    {
      name: 'page_token reused with show_deleted',
      field: 'page_token',
      call: (api, f) => api.listProducts({ pageToken: f.productPageToken, showDeleted: true }),
    },
    {
      name: 'page_token reused with a category filter',
      field: 'page_token',
      call: (api, f) => api.listProducts({ pageToken: f.productPageToken, categoryId: f.categoryId }),
    },
    { name: "ListCategories' page_token", field: 'page_token', call: (api, f) => api.listProducts({ pageToken: f.categoryPageToken }) },
    { name: 'malformed category_id', field: 'category_id', call: (api) => api.listProducts({ categoryId: 'dairy' }) },
    { name: 'name_contains of 201 characters', field: 'name_contains', call: (api) => api.listProducts({ nameContains: chars(201) }) },
    { name: 'name_contains with a NUL character', field: 'name_contains', call: (api) => api.listProducts({ nameContains: 'mi\u0000lk' }) },
  ],
  UpdateProduct: [
    { name: 'missing product', field: 'product', call: (api) => api.updateProduct({ updateMask: ['name'] }) },
    { name: 'missing id', field: 'product.id', call: (api) => api.updateProduct({ product: { name: 'x' }, updateMask: ['name'] }) },
    {
      name: 'malformed id',
      field: 'product.id',
      call: (api) => api.updateProduct({ product: { id: '42', name: 'x' }, updateMask: ['name'] }),
    },
    {
      name: 'missing update_mask',
      field: 'update_mask',
      call: (api, f) => api.updateProduct({ product: { id: f.productId, name: 'Renamed' } }),
    },
    {
      name: 'empty update_mask',
      field: 'update_mask',
      call: (api, f) => api.updateProduct({ product: { id: f.productId, name: 'Renamed' }, updateMask: [] }),
    },
    {
      name: 'unknown mask path',
      field: 'update_mask',
      call: (api, f) => api.updateProduct({ product: { id: f.productId, name: 'Renamed' }, updateMask: ['colour'] }),
    },
    {
      name: 'immutable mask path "sku"',
      field: 'update_mask',
      call: (api, f) => api.updateProduct({ product: { id: f.productId, sku: 'NEW-SKU' }, updateMask: ['sku'] }),
    },
    {
      name: 'output-only mask path "stock_level"',
      field: 'update_mask',
      call: (api, f) => api.updateProduct({ product: { id: f.productId }, updateMask: ['stock_level'] }),
    },
    {
      name: 'camelCase mask path "lowStockThreshold"',
      field: 'update_mask',
      call: (api, f) => api.updateProduct({ product: { id: f.productId, lowStockThreshold: 1 }, updateMask: ['lowStockThreshold'] }),
    },
    {
      name: 'a good path next to a bad one',
      field: 'update_mask',
      call: (api, f) => api.updateProduct({ product: { id: f.productId, name: 'Renamed' }, updateMask: ['name', 'id'] }),
    },
    {
      name: 'etag that is not a number',
      field: 'product.etag',
      call: (api, f) => api.updateProduct({ product: { id: f.productId, name: 'Renamed', etag: 'abc' }, updateMask: ['name'] }),
    },
    {
      name: 'negative etag',
      field: 'product.etag',
      call: (api, f) => api.updateProduct({ product: { id: f.productId, name: 'Renamed', etag: '-1' }, updateMask: ['name'] }),
    },
    {
      name: 'etag too long for a version',
      field: 'product.etag',
      call: (api, f) => api.updateProduct({ product: { id: f.productId, name: 'Renamed', etag: '1'.repeat(30) }, updateMask: ['name'] }),
    },
    {
      name: 'masked name empty',
      field: 'product.name',
      call: (api, f) => api.updateProduct({ product: { id: f.productId, name: '' }, updateMask: ['name'] }),
    },
    {
      name: 'masked name of 201 characters',
      field: 'product.name',
      call: (api, f) => api.updateProduct({ product: { id: f.productId, name: chars(201) }, updateMask: ['name'] }),
    },
    {
      name: 'masked description of 2001 characters',
      field: 'product.description',
      call: (api, f) => api.updateProduct({ product: { id: f.productId, description: chars(2001) }, updateMask: ['description'] }),
    },
    {
      name: 'masked price missing',
      field: 'product.price',
      call: (api, f) => api.updateProduct({ product: { id: f.productId }, updateMask: ['price'] }),
    },
    {
      name: 'masked price in "eur"',
      field: 'product.price.currency_code',
      call: (api, f) =>
        api.updateProduct({ product: { id: f.productId, price: { currencyCode: 'eur', minorUnits: 1 } }, updateMask: ['price'] }),
    },
    {
      name: 'masked negative price',
      field: 'product.price.minor_units',
      call: (api, f) =>
        api.updateProduct({ product: { id: f.productId, price: { currencyCode: 'EUR', minorUnits: -5 } }, updateMask: ['price'] }),
    },
    {
      name: 'masked negative threshold',
      field: 'product.low_stock_threshold',
      call: (api, f) => api.updateProduct({ product: { id: f.productId, lowStockThreshold: -1 }, updateMask: ['low_stock_threshold'] }),
    },
    {
      name: 'masked malformed category id',
      field: 'product.category_ids[0]',
      call: (api, f) => api.updateProduct({ product: { id: f.productId, categoryIds: ['x'] }, updateMask: ['category_ids'] }),
    },
    {
      name: 'masked unknown category (checked in the transaction, rolled back)',
      field: 'product.category_ids',
      call: (api, f) =>
        api.updateProduct({
          product: { id: f.productId, name: 'Renamed', categoryIds: [randomUUID()] },
          updateMask: ['name', 'category_ids'],
        }),
    },
  ],
  DeleteProduct: [
    { name: 'missing id', field: 'id', call: (api) => api.deleteProduct({}) },
    { name: 'malformed id', field: 'id', call: (api) => api.deleteProduct({ id: 'zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz' }) },
  ],
  UndeleteProduct: [
    { name: 'missing id', field: 'id', call: (api) => api.undeleteProduct({}) },
    { name: 'malformed id', field: 'id', call: (api, f) => api.undeleteProduct({ id: f.productId.replace(/-/g, '') }) },
  ],
  CreateCategory: [
    { name: 'missing category', field: 'category', call: (api) => api.createCategory({}) },
    { name: 'missing name', field: 'category.name', call: (api) => api.createCategory({ category: { name: '' } }) },
    { name: 'name of 101 characters', field: 'category.name', call: (api) => api.createCategory({ category: { name: chars(101) } }) },
    {
      name: 'name with a control character',
      field: 'category.name',
      call: (api) => api.createCategory({ category: { name: 'Dai\u0007ry' } }),
    },
    {
      name: 'description of 2001 characters',
      field: 'category.description',
      call: (api) => api.createCategory({ category: { name: 'Valid', description: chars(2001) } }),
    },
  ],
  GetCategory: [
    { name: 'missing id', field: 'id', call: (api) => api.getCategory({}) },
    { name: 'malformed id', field: 'id', call: (api) => api.getCategory({ id: 'dairy' }) },
  ],
  ListCategories: [
    { name: 'page_size -1', field: 'page_size', call: (api) => api.listCategories({ pageSize: -1 }) },
    { name: 'page_size 1001', field: 'page_size', call: (api) => api.listCategories({ pageSize: 1001 }) },
    { name: 'garbage page_token', field: 'page_token', call: (api) => api.listCategories({ pageToken: '%%%' }) },
    { name: "ListProducts' page_token", field: 'page_token', call: (api, f) => api.listCategories({ pageToken: f.productPageToken }) },
    // Tokens are not signed: anyone can build one in the issued shape. Its key must still be checked before it reaches SQL.
    {
      name: 'forged page_token whose key holds a NUL character',
      field: 'page_token',
      call: (api) => api.listCategories({ pageToken: encodePageToken('Dairy\u0000', 'categories') }),
    },
  ],
  UpdateCategory: [
    { name: 'missing category', field: 'category', call: (api) => api.updateCategory({ updateMask: ['name'] }) },
    { name: 'missing id', field: 'category.id', call: (api) => api.updateCategory({ category: { name: 'x' }, updateMask: ['name'] }) },
    {
      name: 'malformed id',
      field: 'category.id',
      call: (api) => api.updateCategory({ category: { id: 'x', name: 'x' }, updateMask: ['name'] }),
    },
    {
      name: 'missing update_mask',
      field: 'update_mask',
      call: (api, f) => api.updateCategory({ category: { id: f.categoryId, name: 'Renamed' } }),
    },
    {
      name: 'unknown mask path "id"',
      field: 'update_mask',
      call: (api, f) => api.updateCategory({ category: { id: f.categoryId, name: 'Renamed' }, updateMask: ['id'] }),
    },
    {
      name: 'masked name of 101 characters',
      field: 'category.name',
      call: (api, f) => api.updateCategory({ category: { id: f.categoryId, name: chars(101) }, updateMask: ['name'] }),
    },
    {
      name: 'masked description of 2001 characters',
      field: 'category.description',
      call: (api, f) => api.updateCategory({ category: { id: f.categoryId, description: chars(2001) }, updateMask: ['description'] }),
    },
  ],
  DeleteCategory: [
    { name: 'missing id', field: 'id', call: (api) => api.deleteCategory({ force: true }) },
    { name: 'malformed id', field: 'id', call: (api) => api.deleteCategory({ id: '1', force: true }) },
  ],
  AdjustStock: [
    { name: 'missing product_id', field: 'product_id', call: (api, f) => api.adjustStock(adjust(f, { productId: '' })) },
    { name: 'malformed product_id', field: 'product_id', call: (api, f) => api.adjustStock(adjust(f, { productId: 'milk' })) },
    { name: 'zero delta', field: 'delta', call: (api, f) => api.adjustStock(adjust(f, { delta: 0 })) },
    { name: 'delta over 1,000,000', field: 'delta', call: (api, f) => api.adjustStock(adjust(f, { delta: 1_000_001 })) },
    { name: 'delta 2^31-1', field: 'delta', call: (api, f) => api.adjustStock(adjust(f, { delta: INT32_MAX })) },
    {
      name: 'delta -2^31',
      field: 'delta',
      call: (api, f) => api.adjustStock(adjust(f, { delta: INT32_MIN, reason: AdjustmentReason.ADJUSTMENT_REASON_CORRECTION })),
    },
    {
      name: 'unspecified reason (0)',
      field: 'reason',
      call: (api, f) => api.adjustStock(adjust(f, { reason: AdjustmentReason.ADJUSTMENT_REASON_UNSPECIFIED })),
    },
    { name: 'unknown reason 99', field: 'reason', call: (api, f) => api.adjustStock(adjust(f, { reason: 99 as AdjustmentReason })) },
    { name: 'negative reason -1', field: 'reason', call: (api, f) => api.adjustStock(adjust(f, { reason: -1 as AdjustmentReason })) },
    {
      name: 'RESTOCK with a negative delta',
      field: 'delta',
      call: (api, f) => api.adjustStock(adjust(f, { delta: -5, reason: AdjustmentReason.ADJUSTMENT_REASON_RESTOCK })),
    },
    {
      name: 'DAMAGED with a positive delta',
      field: 'delta',
      call: (api, f) => api.adjustStock(adjust(f, { delta: 5, reason: AdjustmentReason.ADJUSTMENT_REASON_DAMAGED })),
    },
    {
      name: 'EXPIRED with a positive delta',
      field: 'delta',
      call: (api, f) => api.adjustStock(adjust(f, { delta: 5, reason: AdjustmentReason.ADJUSTMENT_REASON_EXPIRED })),
    },
    {
      name: 'LOST with a positive delta',
      field: 'delta',
      call: (api, f) => api.adjustStock(adjust(f, { delta: 5, reason: AdjustmentReason.ADJUSTMENT_REASON_LOST })),
    },
    { name: 'missing idempotency_key', field: 'idempotency_key', call: (api, f) => api.adjustStock(adjust(f, { idempotencyKey: '' })) },
    {
      name: 'idempotency_key of only spaces',
      field: 'idempotency_key',
      call: (api, f) => api.adjustStock(adjust(f, { idempotencyKey: '    ' })),
    },
    {
      name: 'idempotency_key of 129 characters',
      field: 'idempotency_key',
      call: (api, f) => api.adjustStock(adjust(f, { idempotencyKey: chars(129, 'k') })),
    },
    {
      name: 'idempotency_key with a control character',
      field: 'idempotency_key',
      call: (api, f) => api.adjustStock(adjust(f, { idempotencyKey: 'key\u0000' })),
    },
    { name: 'note of 501 characters', field: 'note', call: (api, f) => api.adjustStock(adjust(f, { note: chars(501) })) },
    { name: 'note with a control character', field: 'note', call: (api, f) => api.adjustStock(adjust(f, { note: 'bad\u0008note' })) },
  ],
  BatchGetStockLevels: [
    { name: 'no ids', field: 'product_ids', call: (api) => api.batchGetStockLevels({ productIds: [] }) },
    { name: 'an empty id', field: 'product_ids[0]', call: (api) => api.batchGetStockLevels({ productIds: [''] }) },
    {
      name: 'a malformed second id',
      field: 'product_ids[1]',
      call: (api, f) => api.batchGetStockLevels({ productIds: [f.productId, 'milk'] }),
    },
    {
      name: 'a repeated id',
      field: 'product_ids[1]',
      call: (api, f) => api.batchGetStockLevels({ productIds: [f.productId, f.productId] }),
    },
    {
      name: 'a repeated id in other case',
      field: 'product_ids[2]',
      call: (api, f) => api.batchGetStockLevels({ productIds: [f.productId, f.otherProductId, f.productId.toUpperCase()] }),
    },
    {
      name: '1001 ids',
      field: 'product_ids',
      call: (api) => api.batchGetStockLevels({ productIds: Array.from({ length: 1001 }, () => randomUUID()) }),
    },
  ],
  ReserveStock: [
    {
      name: 'missing order_id',
      field: 'order_id',
      call: (api, f) => api.reserveStock({ items: [{ productId: f.productId, quantity: 1 }] }),
    },
    {
      name: 'malformed order_id',
      field: 'order_id',
      call: (api, f) => api.reserveStock({ orderId: 'order-1', items: [{ productId: f.productId, quantity: 1 }] }),
    },
    { name: 'no items', field: 'items', call: (api) => api.reserveStock({ orderId: randomUUID(), items: [] }) },
    {
      name: '101 items',
      field: 'items',
      call: (api) =>
        api.reserveStock({ orderId: randomUUID(), items: Array.from({ length: 101 }, () => ({ productId: randomUUID(), quantity: 1 })) }),
    },
    {
      name: 'an item without product_id',
      field: 'items[0].product_id',
      call: (api) => api.reserveStock({ orderId: randomUUID(), items: [{ quantity: 1 }] }),
    },
    {
      name: 'a malformed product_id in the second item',
      field: 'items[1].product_id',
      call: (api, f) =>
        api.reserveStock({
          orderId: randomUUID(),
          items: [
            { productId: f.productId, quantity: 1 },
            { productId: 'milk', quantity: 1 },
          ],
        }),
    },
    {
      name: 'quantity 0',
      field: 'items[0].quantity',
      call: (api, f) => api.reserveStock({ orderId: randomUUID(), items: [{ productId: f.productId, quantity: 0 }] }),
    },
    {
      name: 'quantity -1 in the second item',
      field: 'items[1].quantity',
      call: (api, f) =>
        api.reserveStock({
          orderId: randomUUID(),
          items: [
            { productId: f.productId, quantity: 1 },
            { productId: f.otherProductId, quantity: -1 },
          ],
        }),
    },
    {
      name: 'quantity 10001',
      field: 'items[0].quantity',
      call: (api, f) => api.reserveStock({ orderId: randomUUID(), items: [{ productId: f.productId, quantity: 10_001 }] }),
    },
    {
      name: 'quantity 2^31-1 in the second item',
      field: 'items[1].quantity',
      call: (api, f) =>
        api.reserveStock({
          orderId: randomUUID(),
          items: [
            { productId: f.productId, quantity: 1 },
            { productId: f.otherProductId, quantity: INT32_MAX },
          ],
        }),
    },
    {
      name: 'the same product twice',
      field: 'items[1].product_id',
      call: (api, f) =>
        api.reserveStock({
          orderId: randomUUID(),
          items: [
            { productId: f.productId, quantity: 1 },
            { productId: f.productId, quantity: 2 },
          ],
        }),
    },
    {
      name: 'the same product twice, in other case',
      field: 'items[2].product_id',
      call: (api, f) =>
        api.reserveStock({
          orderId: randomUUID(),
          items: [
            { productId: f.productId, quantity: 1 },
            { productId: f.otherProductId, quantity: 1 },
            { productId: f.productId.toUpperCase(), quantity: 1 },
          ],
        }),
    },
    {
      name: 'ttl of 0.5 s',
      field: 'ttl',
      call: (api, f) =>
        api.reserveStock({
          orderId: randomUUID(),
          items: [{ productId: f.productId, quantity: 1 }],
          ttl: { seconds: 0, nanos: 500_000_000 },
        }),
    },
    {
      name: 'ttl of 25 h',
      field: 'ttl',
      call: (api, f) =>
        api.reserveStock({ orderId: randomUUID(), items: [{ productId: f.productId, quantity: 1 }], ttl: { seconds: 25 * 3600 } }),
    },
    {
      name: 'ttl of zero',
      field: 'ttl',
      call: (api, f) =>
        api.reserveStock({ orderId: randomUUID(), items: [{ productId: f.productId, quantity: 1 }], ttl: { seconds: 0, nanos: 0 } }),
    },
    {
      name: 'ttl with negative nanos',
      field: 'ttl',
      call: (api, f) =>
        api.reserveStock({ orderId: randomUUID(), items: [{ productId: f.productId, quantity: 1 }], ttl: { seconds: 60, nanos: -1 } }),
    },
    {
      name: 'ttl with nanos over a second',
      field: 'ttl',
      call: (api, f) =>
        api.reserveStock({
          orderId: randomUUID(),
          items: [{ productId: f.productId, quantity: 1 }],
          ttl: { seconds: 60, nanos: 1_000_000_000 },
        }),
    },
    {
      name: 'negative ttl',
      field: 'ttl',
      call: (api, f) =>
        api.reserveStock({ orderId: randomUUID(), items: [{ productId: f.productId, quantity: 1 }], ttl: { seconds: -60 } }),
    },
  ],
  GetReservation: [
    { name: 'missing order_id', field: 'order_id', call: (api) => api.getReservation({}) },
    { name: 'malformed order_id', field: 'order_id', call: (api) => api.getReservation({ orderId: 'order-1' }) },
  ],
  CommitReservation: [
    { name: 'missing order_id', field: 'order_id', call: (api) => api.commitReservation({}) },
    { name: 'malformed order_id', field: 'order_id', call: (api, f) => api.commitReservation({ orderId: ` ${f.orderId}` }) },
  ],
  ReleaseReservation: [
    { name: 'missing order_id', field: 'order_id', call: (api) => api.releaseReservation({ reason: 'cancelled' }) },
    { name: 'malformed order_id', field: 'order_id', call: (api) => api.releaseReservation({ orderId: 'order-1', reason: 'cancelled' }) },
    {
      name: 'reason of 501 characters',
      field: 'reason',
      call: (api, f) => api.releaseReservation({ orderId: f.orderId, reason: chars(501) }),
    },
    {
      name: 'reason with a control character',
      field: 'reason',
      call: (api, f) => api.releaseReservation({ orderId: f.orderId, reason: 'payment\u0000declined' }),
    },
  ],
  ExtendReservation: [
    { name: 'missing order_id', field: 'order_id', call: (api) => api.extendReservation({ ttl: { seconds: 60 } }) },
    { name: 'malformed order_id', field: 'order_id', call: (api) => api.extendReservation({ orderId: 'order-1', ttl: { seconds: 60 } }) },
    { name: 'missing ttl', field: 'ttl', call: (api, f) => api.extendReservation({ orderId: f.orderId }) },
    {
      name: 'ttl of 0.5 s',
      field: 'ttl',
      call: (api, f) => api.extendReservation({ orderId: f.orderId, ttl: { seconds: 0, nanos: 500_000_000 } }),
    },
    { name: 'ttl of 25 h', field: 'ttl', call: (api, f) => api.extendReservation({ orderId: f.orderId, ttl: { seconds: 25 * 3600 } }) },
    {
      name: 'ttl with negative nanos',
      field: 'ttl',
      call: (api, f) => api.extendReservation({ orderId: f.orderId, ttl: { seconds: 60, nanos: -500_000_000 } }),
    },
  ],
};

/** Sends raw bytes as the request of a method, with the admin key. */
function rawCall(address: string, method: string, bytes: Buffer): Promise<{ error: ServiceError | null; response?: Buffer }> {
  const client = new Client(address, credentials.createInsecure());
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${ADMIN_KEY}`);
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      `${SERVICE}/${method}`,
      (b: Buffer) => b,
      (b: Buffer) => b,
      bytes,
      metadata,
      (error: ServiceError | null, response?: Buffer) => {
        client.close();
        resolve({ error, response });
      },
    );
  });
}

describe('request validation', function () {
  this.timeout(30_000);
  let inv: TestInventory;
  let fixtures: Fixtures;
  let countsBefore: Record<string, number>;
  let stockBefore: unknown;
  let productBefore: unknown;
  /** Every case's gRPC code, to check afterwards that none was UNKNOWN or INTERNAL. */
  const outcomes: { name: string; code: string }[] = [];

  const countRows = async () => {
    const counts: Record<string, number> = {};
    for (const table of TABLES) counts[table] = Number((await inv.db(table).count<{ count: string }[]>('* as count'))[0]!.count);
    return counts;
  };
  const stockRows = () => inv.db('stock_levels').whereIn('product_id', [fixtures.productId, fixtures.otherProductId]).orderBy('product_id');
  const productRows = () => inv.db('products').whereIn('id', [fixtures.productId, fixtures.otherProductId]).orderBy('id');

  before(async () => {
    inv = await startTestInventory();
    const product = await createTestProduct(inv.api, { initialStock: 50 });
    const other = await createTestProduct(inv.api, { initialStock: 50 });
    const { category } = await inv.api.createCategory({ category: { name: `Validation ${randomUUID().slice(0, 8)}` } });
    await inv.api.createCategory({ category: { name: `Validation ${randomUUID().slice(0, 8)}` } });
    const orderId = randomUUID();
    await inv.api.reserveStock({ orderId, items: [{ productId: product.id, quantity: 2 }], ttl: { seconds: 3600 } });
    await inv.api.adjustStock({
      productId: product.id,
      delta: 3,
      reason: AdjustmentReason.ADJUSTMENT_REASON_RESTOCK,
      idempotencyKey: `fixture-${randomUUID()}`,
    });
    const productPage = await inv.api.listProducts({ pageSize: 1 });
    const categoryPage = await inv.api.listCategories({ pageSize: 1 });
    expect(productPage.nextPageToken).to.not.equal('');
    expect(categoryPage.nextPageToken).to.not.equal('');
    fixtures = {
      productId: product.id,
      otherProductId: other.id,
      categoryId: category!.id,
      orderId,
      productPageToken: productPage.nextPageToken,
      categoryPageToken: categoryPage.nextPageToken,
    };
    // The tokens are good: they page on with the filters they were issued for.
    await inv.api.listProducts({ pageSize: 1, pageToken: fixtures.productPageToken });
    await inv.api.listCategories({ pageSize: 1, pageToken: fixtures.categoryPageToken });
    countsBefore = await countRows();
    stockBefore = await stockRows();
    productBefore = await productRows();
  });
  after(async () => inv?.stop());

  for (const [rpc, cases] of Object.entries(matrix)) {
    describe(rpc, () => {
      for (const testCase of cases) {
        it(`${testCase.name} → INVALID_ARGUMENT naming ${testCase.field}`, async () => {
          let error: ServiceError | undefined;
          try {
            await testCase.call(inv.api, fixtures);
          } catch (caught) {
            error = caught as ServiceError;
          }
          outcomes.push({ name: `${rpc}: ${testCase.name}`, code: error ? Code[error.code]! : 'OK' });
          expect(error, `expected INVALID_ARGUMENT, but ${rpc} succeeded`).to.not.equal(undefined);
          expect(Code[error!.code], error!.details).to.equal('INVALID_ARGUMENT');
          const info = errorInfoOf(error!);
          expect(info, 'ErrorInfo in grpc-status-details-bin').to.not.equal(undefined);
          expect(info!.domain).to.equal('larder.dev');
          expect(info!.metadata.field, error!.details).to.equal(testCase.field);
          // The message names the field too, for humans reading logs.
          expect(error!.details).to.include(testCase.field);
        });
      }
    });
  }

  describe('undecodable requests', () => {
    const garbage: { name: string; method: string; bytes: Buffer }[] = [
      { name: 'an invalid wire type', method: 'ReserveStock', bytes: Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]) },
      { name: 'a length past the end', method: 'ReserveStock', bytes: Buffer.from([0x0a, 0x7f, 0x41, 0x42]) },
      { name: 'a truncated varint', method: 'AdjustStock', bytes: Buffer.from([0x10, 0xff, 0xff]) },
      // initial_stock (field 2, int64) = 2^63-1: valid protobuf, but no JavaScript number holds it exactly.
      {
        name: 'an int64 beyond 2^53',
        method: 'CreateProduct',
        bytes: Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]),
      },
      { name: 'a sub-message that is not one', method: 'CreateProduct', bytes: Buffer.from([0x0a, 0x03, 0xff, 0xff, 0xff]) },
    ];
    for (const { name, method, bytes } of garbage) {
      it(`${method} with ${name} → INVALID_ARGUMENT, not INTERNAL or UNKNOWN`, async () => {
        const { error } = await rawCall(inv.address, method, bytes);
        outcomes.push({ name: `${method}: raw bytes with ${name}`, code: error ? Code[error.code]! : 'OK' });
        expect(error, `${method} accepted undecodable bytes`).to.not.equal(null);
        expect(Code[error!.code], error!.details).to.equal('INVALID_ARGUMENT');
        expect(errorInfoOf(error!)?.reason).to.equal('MALFORMED_REQUEST');
      });
    }

    it('an empty message decodes to defaults and is refused by validation, not by the decoder', async () => {
      const { error } = await rawCall(inv.address, 'ReserveStock', Buffer.alloc(0));
      outcomes.push({ name: 'ReserveStock: empty bytes', code: error ? Code[error.code]! : 'OK' });
      expect(error, 'ReserveStock accepted an empty request').to.not.equal(null);
      expect(Code[error!.code]).to.equal('INVALID_ARGUMENT');
      expect(errorInfoOf(error!)?.metadata.field).to.equal('order_id');
    });
  });

  describe('afterwards', () => {
    it('no case was answered UNKNOWN or INTERNAL', () => {
      const total = Object.values(matrix).reduce((n, cases) => n + cases.length, 0);
      expect(outcomes.length).to.be.at.least(total);
      expect(outcomes.filter((o) => o.code === 'UNKNOWN' || o.code === 'INTERNAL')).to.deep.equal([]);
    });

    it('the database did not change: same row counts, same stock, same products', async () => {
      expect(await countRows()).to.deep.equal(countsBefore);
      expect(await stockRows()).to.deep.equal(stockBefore);
      expect(await productRows()).to.deep.equal(productBefore);
      const { reservation } = await inv.api.getReservation({ orderId: fixtures.orderId });
      expect(reservation!.items).to.have.length(1);
      expect(reservation!.items[0]).to.include({ productId: fixtures.productId, quantity: 2 });
    });

    it('the service still answers valid requests', async () => {
      const { stockLevels } = await inv.api.batchGetStockLevels({ productIds: [fixtures.productId] });
      expect(stockLevels[0]).to.include({ productId: fixtures.productId, available: 51, reserved: 2, sold: 0 });
      const { reservation } = await inv.api.reserveStock({
        orderId: randomUUID(),
        items: [{ productId: fixtures.otherProductId, quantity: 1 }],
      });
      expect(reservation!.items[0]!.quantity).to.equal(1);
      const { product } = await inv.api.getProduct({ id: fixtures.productId });
      expect(product!.stockLevel).to.include({ available: 51, reserved: 2 });
    });
  });
});
