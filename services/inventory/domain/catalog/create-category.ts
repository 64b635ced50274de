import { uuidv7 } from '#libs/ids/uuid.js';
import { insertCategory } from '../../data/categories.js';
import type { InventoryDeps } from '../deps.js';
import type { CategoryRecord } from '../types.js';
import { guardName } from './category-names.js';

/** CreateCategory: a new category with a unique name. */
export function createCategory(deps: InventoryDeps, input: { name: string; description: string }): Promise<CategoryRecord> {
  const now = deps.clock.now();
  return guardName(input.name, () => insertCategory(deps.db, { id: uuidv7(now.getTime()), ...input }, now));
}
