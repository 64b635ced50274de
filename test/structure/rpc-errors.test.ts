import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { COMMON_RPC_ERRORS, TOKEN_RPC_ERRORS, type RpcError } from '#libs/grpc/rpc-errors.js';
import { errorsOf } from '#libs/grpc/rpc-table.js';
import { inventoryRpcs } from '../../services/inventory/transport/rpcs.js';
import { cartRpcs } from '../../services/order/transport/carts.js';
import { orderRpcs } from '../../services/order/transport/orders.js';
import { ORDER_COMMON_RPC_ERRORS } from '../../services/order/transport/rpc-errors.js';

/**
 * The API reference lists, per RPC, the reasons it can return (the `errors` of
 * each RPC's declaration in the services' transport/). This holds those lists
 * to the code: every ErrorInfo reason the shipped code raises is listed, and
 * every listed reason is raised somewhere, so docs/api.md cannot drift from
 * what callers see.
 */

const ROOT = new URL('../../', import.meta.url).pathname;
/**
 * Calls that build an AppError, whose `reason` option (or third argument of invalid) is
 * an ErrorInfo reason; `refused(reason, …)` is bearer-token.ts's builder, reason first.
 */
const ERROR_CALL = /\b(?:new AppError|failedPrecondition|alreadyExists|aborted|unavailable|invalid|notFound|refused)\(/g;

function shippedFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'test' ? [] : shippedFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** The argument text of the call whose `(` is at `open`, up to its matching `)`. */
function callArguments(source: string, open: number): string {
  let depth = 0;
  for (let i = open; i < source.length; i++) {
    if (source[i] === '(') depth++;
    else if (source[i] === ')' && --depth === 0) return source.slice(open + 1, i);
  }
  return source.slice(open + 1);
}

/** Every reason literal the code under `dir` raises. */
function raisedReasons(dir: string): Set<string> {
  const reasons = new Set<string>();
  for (const file of shippedFiles(dir)) {
    const source = readFileSync(file, 'utf8');
    for (const call of source.matchAll(ERROR_CALL)) {
      const args = callArguments(source, call.index + call[0].length - 1);
      if (call[0].startsWith('notFound')) {
        // notFound('order', id) → ORDER_NOT_FOUND (libs/errors/app-error.ts).
        const what = /^\s*'([a-z ]+)'/.exec(args)?.[1];
        if (what) reasons.add(`${what.toUpperCase().replace(/ /g, '_')}_NOT_FOUND`);
        continue;
      }
      if (call[0].startsWith('refused')) {
        const first = /^\s*'([A-Z_]+)'/.exec(args)?.[1];
        if (first) reasons.add(first);
      }
      for (const match of args.matchAll(/reason: '([A-Z_]+)'/g)) reasons.add(match[1]!);
      const third = call[0].startsWith('invalid') ? /,\s*'([A-Z_]+)'\s*$/.exec(args)?.[1] : undefined;
      if (third) reasons.add(third);
    }
  }
  return reasons;
}

const listed = (tables: Record<string, readonly RpcError[]>[]) =>
  new Set(tables.flatMap((t) => Object.values(t).flat()).map((e) => e.reason));
const reasonsOf = (errors: readonly RpcError[]) => new Set(errors.map((e) => e.reason));
const common = reasonsOf(COMMON_RPC_ERRORS);
const shared = reasonsOf([...COMMON_RPC_ERRORS, ...TOKEN_RPC_ERRORS]);
const sorted = (set: Iterable<string>) => [...set].sort();

describe('structure: the API reference lists the errors the code raises', () => {
  const services = {
    inventory: { rpcs: listed([errorsOf(inventoryRpcs)]), common },
    order: { rpcs: listed([errorsOf(cartRpcs), errorsOf(orderRpcs)]), common: reasonsOf(ORDER_COMMON_RPC_ERRORS) },
  };

  it('libs/: every reason shared code raises is in COMMON_RPC_ERRORS or TOKEN_RPC_ERRORS', () => {
    const missing = [...raisedReasons(join(ROOT, 'libs'))].filter((r) => !shared.has(r));
    expect(sorted(missing)).to.deep.equal([]);
  });

  for (const [service, { rpcs: documented, common: serviceCommon }] of Object.entries(services)) {
    const raised = raisedReasons(join(ROOT, 'services', service));

    it(`services/${service}: every reason it raises is listed for some RPC`, () => {
      const missing = [...raised].filter((r) => !documented.has(r) && !serviceCommon.has(r));
      expect(sorted(missing)).to.deep.equal([]);
    });

    it(`services/${service}: every reason listed for an RPC is raised by its code`, () => {
      const stale = [...documented].filter((r) => !raised.has(r));
      expect(sorted(stale)).to.deep.equal([]);
    });
  }
});
