import * as v from '#libs/validation/fields.js';
import { toOrderEventMessage, toOrderMessage } from '../contract/to-proto.js';
import { getOrder, orderLogSince } from '../domain/read-orders.js';
import { isTerminal } from '../domain/order-status.js';
import { orderNotFound } from './rpc-errors.js';
import type { OrderRpcTable } from './scopes.js';

/** How often a watcher looks for new log entries; the log is in PostgreSQL, so any replica's changes show. */
const POLL_MS = 100;
/** A watch ends after this long even if the order never settles (clients re-watch). */
const MAX_WATCH_MS = 30 * 60_000;

/**
 * WatchOrder: the order now, then the order again with each new log entry,
 * until it is terminal, the caller goes away, or its deadline passes.
 */
export const watchOrder: OrderRpcTable['watchOrder'] = {
  scope: 'orders.read',
  errors: [orderNotFound],
  async handle(deps, request, ctx, send, signal) {
    const id = v.requireUuid('id', request.id);
    // The log position first, then the order: a change committed in between is
    // then sent again below rather than counted as seen and lost.
    let seen = (await orderLogSince(deps, id)).at(-1)?.sequence ?? 0;
    // Nothing is sent before this read, which refuses another customer's order (NOT_FOUND).
    let order = await getOrder(deps, id, { includeDeleted: true, owner: ctx.subject });
    send({ order: toOrderMessage(order), event: undefined });
    const until = Math.min(Date.now() + MAX_WATCH_MS, ctx.deadline?.getTime() ?? Infinity);
    while (!isTerminal(order.status) && !signal.aborted && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      const events = await orderLogSince(deps, id, seen);
      if (events.length === 0) continue;
      order = await getOrder(deps, id, { includeDeleted: true });
      for (const event of events) {
        send({ order: toOrderMessage(order), event: toOrderEventMessage(event) });
        seen = event.sequence;
      }
    }
  },
};
