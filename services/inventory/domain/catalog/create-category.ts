import { inTransaction } from '#libs/db/in-transaction.js';
import type { RequestContext } from '#libs/context/request-context.js';
import { appendToOutbox } from '#libs/events/outbox.js';
import { uuidv7 } from '#libs/ids/uuid.js';
import { insertCategory } from '../../data/categories.js';
import type { InventoryDeps } from '../deps.js';
import type { CategoryRecord } from '../types.js';
import { guardName } from './category-names.js';

/** CreateCategory: a new category with a unique name, announced (CategoryCreated). */
export async function createCategory(
  deps: InventoryDeps,
  ctx: RequestContext,
  input: { name: string; description: string },
): Promise<CategoryRecord> {
  const now = deps.clock.now();
  const created = await guardName(input.name, () =>
    inTransaction(deps, async (trx) => {
      const category = await insertCategory(trx, { id: uuidv7(now.getTime()), ...input }, now);
      await appendToOutbox(trx, [deps.events.categoryCreated({ correlationId: ctx.correlationId, now }, category)]);
      return category;
    }),
  );
  deps.catalogCache?.categoryChanged(created.id);
  return created;
}
