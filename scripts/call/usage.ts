/** A mistake in how `npm run call` was invoked: printed with the usage, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export const USAGE = `usage: npm run call -- [options] <Service/Method> ['<json request>']
       npm run call -- --list

  <Service/Method>   short or full service name, e.g. InventoryService/GetProduct
                     or larder.order.v1.OrderService/WatchOrder
  <json request>     the request with proto field names (snake_case; lowerCamelCase too),
                     Timestamp/Duration/FieldMask as in proto3 JSON; default {}

  --list             the services and methods in proto/
  --addr <where>     host:port, or inventory / order (default: INVENTORY_ADDR or ORDER_ADDR,
                     else 127.0.0.1 on INVENTORY_GRPC_PORT / ORDER_GRPC_PORT, 50051 / 50052);
                     grpc.health.v1.Health goes to inventory unless told
  --key <key>        API key, sent as "authorization: Bearer <key>" (default: LARDER_API_KEY,
                     else the service's development admin key)
  --no-key           send no API key
  -H '<name>: <value>'  more metadata, e.g. -H 'x-request-id: my-id' (repeatable)

A unary answer is printed as JSON; a server stream one message per line until it ends
(Ctrl-C cancels it). A failed call prints its status code, message and error details
on stderr and exits 1.`;

export interface Invocation {
  help: boolean;
  list: boolean;
  target?: string;
  json: string;
  addr?: string;
  /** undefined: the default key; null: none. */
  key?: string | null;
  headers: [string, string][];
}

export function parseArgs(argv: readonly string[]): Invocation {
  const invocation: Invocation = { help: false, list: false, json: '{}', headers: [] };
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    const value = () => {
      const next = argv[++i];
      if (next === undefined) throw new UsageError(`${arg} needs a value`);
      return next;
    };
    if (arg === '--list') invocation.list = true;
    else if (arg === '--addr') invocation.addr = value();
    else if (arg === '--key') invocation.key = value();
    else if (arg === '--no-key') invocation.key = null;
    else if (arg === '-H' || arg === '--header') {
      const header = /^([^:\s]+):\s*(.*)$/.exec(value());
      if (!header) throw new UsageError(`${arg} takes '<name>: <value>'`);
      invocation.headers.push([header[1]!.toLowerCase(), header[2]!]);
    } else if (arg === '-h' || arg === '--help') throw new UsageError('');
    else if (arg.startsWith('-')) throw new UsageError(`unknown option ${arg}`);
    else positional.push(arg);
  }
  if (invocation.help) return invocation;
  if (invocation.list ? positional.length > 0 : positional.length < 1 || positional.length > 2) {
    throw new UsageError(invocation.list ? '--list takes no method' : 'give one <Service/Method> and at most one JSON request');
  }
  [invocation.target, invocation.json = '{}'] = positional;
  return invocation;
}
