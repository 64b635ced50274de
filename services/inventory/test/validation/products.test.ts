import { randomUUID } from 'node:crypto';
import { chars, INT32_MAX } from '#test/support/request-validation.js';
import { describeRequestValidation, itRefusesUndecodable, type Matrix } from './harness.js';

/**
 * Request validation of CreateProduct, GetProduct, ListProducts,
 * UpdateProduct, DeleteProduct and UndeleteProduct. The inventory,
 * its fixtures and the checks after the cases are in harness.ts.
 */

const validProduct = () => ({
  sku: `VALID-${randomUUID().slice(0, 8)}`,
  name: 'Valid product',
  price: { currencyCode: 'EUR', minorUnits: 100 },
});

const matrix: Matrix = {
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
};

describeRequestValidation('products', matrix, (context) => {
  describe('undecodable requests', () => {
    itRefusesUndecodable(context, [
      // initial_stock (field 2, int64) = 2^63-1: valid protobuf, but no JavaScript number holds it exactly.
      {
        name: 'an int64 beyond 2^53',
        method: 'CreateProduct',
        bytes: Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]),
      },
      { name: 'a sub-message that is not one', method: 'CreateProduct', bytes: Buffer.from([0x0a, 0x03, 0xff, 0xff, 0xff]) },
    ]);
  });
});
