import { encodePageToken } from '#libs/validation/page-token.js';
import { chars } from '#test/support/request-validation.js';
import { describeRequestValidation, type Matrix } from './harness.js';

/**
 * Request validation of CreateCategory, GetCategory, ListCategories,
 * UpdateCategory and DeleteCategory. The inventory,
 * its fixtures and the checks after the cases are in harness.ts.
 */

const matrix: Matrix = {
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
};

describeRequestValidation('categories', matrix);
