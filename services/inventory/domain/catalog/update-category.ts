import { inTransaction } from '#libs/db/in-transaction.js';
import type { RequestContext } from '#libs/context/request-context.js';
import { notFound } from '#libs/errors/app-error.js';
import { appendToOutbox } from '#libs/events/outbox.js';
import { patchCategory } from '../../data/categories.js';
import type { InventoryDeps } from '../deps.js';
import type { CategoryRecord } from '../types.js';
import { guardName } from './category-names.js';

/** UpdateCategory: name and description; a new name must be free. Announced (CategoryUpdated). */
export async function updateCategory(
  deps: InventoryDeps,
  ctx: RequestContext,
  id: string,
  patch: { name?: string; description?: string },
): Promise<CategoryRecord> {
  const now = deps.clock.now();
  const changedFields = Object.entries(patch)
    .filter(([, value]) => value !== undefined)
    .map(([field]) => field);
  const updated = await guardName(patch.name, () =>
    inTransaction(deps, async (trx) => {
      const category = await patchCategory(trx, id, patch, now);
      if (!category) throw notFound('category', id);
      await appendToOutbox(trx, [deps.events.categoryUpdated({ correlationId: ctx.correlationId, now }, category, changedFields)]);
      return category;
    }),
  );
  deps.catalogCache?.categoryChanged(id);
  return updated;
}
