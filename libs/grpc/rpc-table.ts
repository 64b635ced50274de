import type { RpcError, RpcErrors } from './rpc-errors.js';
import type { Handlers, Scopes } from './server.js';

/**
 * One RPC declared in one place: the scope a caller needs, the errors it
 * returns and its handler. A service's table of these, typed against the
 * generated service definition, is what the server, the API reference and
 * the structure tests read, so a method without an entry fails `tsc`.
 */
export interface Rpc<Scope extends string, Handle> {
  /** The API-key scope the RPC needs; its .proto comment ends "Scope: <scope>." (test/structure/rpc-scopes.test.ts). */
  scope: Scope;
  /** ErrorInfo reasons it returns besides the service's common ones (docs/api.md, test/structure/rpc-errors.test.ts). */
  errors: readonly RpcError[];
  /** The handler, given the service's deps before the request. */
  handle: Handle;
}

/** A handler of `Handlers<D>` that takes the service's deps first. */
type WithDeps<Deps, H> = H extends (...args: infer A) => infer R ? (deps: Deps, ...args: A) => R : never;

/** Every RPC of the ts-proto service definition D, declared: `tsc` fails while a method has no entry. */
export type RpcTable<D, Deps, Scope extends string = string> = { [K in keyof D]: Rpc<Scope, WithDeps<Deps, Handlers<D>[K]>> };

/** What an area file declares: some of the service's RPCs (`satisfies` it, so a misspelt method fails too). */
export type AreaRpcs<D, Deps, Scope extends string = string> = Partial<RpcTable<D, Deps, Scope>>;

type AnyRpc<Deps> = Rpc<string, (deps: Deps, ...args: never[]) => unknown>;
type Bound<H> = H extends (deps: never, ...args: infer A) => infer R ? (...args: A) => R : never;

/** The handlers the server runs: each declaration's `handle` with the deps bound. */
export function handlersOf<T extends Record<string, AnyRpc<Deps>>, Deps>(table: T, deps: Deps): { [K in keyof T]: Bound<T[K]['handle']> } {
  const handlers: Record<string, unknown> = {};
  for (const [name, rpc] of Object.entries(table)) {
    const handle = rpc.handle as (deps: Deps, ...args: unknown[]) => unknown;
    handlers[name] = (...args: unknown[]) => handle(deps, ...args);
  }
  return handlers as { [K in keyof T]: Bound<T[K]['handle']> };
}

/** The scope per method, as the server's auth check and docs/api.md want it. */
export function scopesOf<T extends Record<string, AnyRpc<never>>>(table: T): Scopes<T> {
  return Object.fromEntries(Object.entries(table).map(([name, rpc]) => [name, rpc.scope])) as Scopes<T>;
}

/** The errors per method, as docs/api.md and the structure test want them. */
export function errorsOf<T extends Record<string, AnyRpc<never>>>(table: T): RpcErrors<T> {
  return Object.fromEntries(Object.entries(table).map(([name, rpc]) => [name, rpc.errors])) as RpcErrors<T>;
}
