import { invalid } from '#libs/errors/app-error.js';
import { decodePageToken, encodePageToken } from '#libs/validation/page-token.js';
import * as v from '#libs/validation/fields.js';
import { toCategoryMessage } from '../contract/to-proto.js';
import { createCategory } from '../domain/catalog/create-category.js';
import { deleteCategory } from '../domain/catalog/delete-category.js';
import { getCategory, listCategoryPage } from '../domain/catalog/read-categories.js';
import { updateCategory } from '../domain/catalog/update-category.js';
import { rpcError } from '#libs/grpc/rpc-errors.js';
import { categoryNameTaken, categoryNotFound } from './rpc-errors.js';
import type { InventoryRpcs } from './scopes.js';

const categoryName = (value: string | undefined) => v.text('category.name', value, { min: 1, max: 100 });
const categoryDescription = (value: string | undefined) => v.text('category.description', value, { max: 2000 });

/** The category RPCs: each one's scope, errors and handler. */
export const categoryRpcs = {
  createCategory: {
    scope: 'catalog.write',
    errors: [categoryNameTaken],
    async handle(deps, request, ctx) {
      if (!request.category) throw invalid('category', 'is required');
      const created = await createCategory(deps, ctx, {
        name: categoryName(request.category.name),
        description: categoryDescription(request.category.description),
      });
      return { category: toCategoryMessage(created) };
    },
  },

  getCategory: {
    scope: 'catalog.read',
    errors: [categoryNotFound],
    async handle(deps, request) {
      return { category: toCategoryMessage(await getCategory(deps, v.requireUuid('id', request.id))) };
    },
  },

  listCategories: {
    scope: 'catalog.read',
    errors: [],
    async handle(deps, request) {
      const pageSize = v.pageSize('page_size', request.pageSize);
      const afterName = decodePageToken('page_token', request.pageToken, 'categories');
      // Tokens are not signed: what comes back is checked like any input before it reaches SQL.
      if (afterName !== undefined) v.text('page_token', afterName, { min: 1, max: 100 });
      const page = await listCategoryPage(deps, afterName, pageSize);
      return {
        categories: page.categories.map(toCategoryMessage),
        nextPageToken: page.nextAfterName !== undefined ? encodePageToken(page.nextAfterName, 'categories') : '',
      };
    },
  },

  updateCategory: {
    scope: 'catalog.write',
    errors: [categoryNotFound, categoryNameTaken],
    async handle(deps, request, ctx) {
      const category = request.category;
      if (!category) throw invalid('category', 'is required');
      const id = v.requireUuid('category.id', category.id);
      const paths = v.maskPaths('update_mask', request.updateMask, ['name', 'description']);
      const updated = await updateCategory(deps, ctx, id, {
        name: paths.includes('name') ? categoryName(category.name) : undefined,
        description: paths.includes('description') ? categoryDescription(category.description) : undefined,
      });
      return { category: toCategoryMessage(updated) };
    },
  },

  deleteCategory: {
    scope: 'catalog.write',
    errors: [
      categoryNotFound,
      rpcError('FAILED_PRECONDITION', 'CATEGORY_NOT_EMPTY', 'products are still in the category and force is not set'),
    ],
    async handle(deps, request, ctx) {
      await deleteCategory(deps, ctx, v.requireUuid('id', request.id), request.force);
      return {};
    },
  },
} satisfies InventoryRpcs;
