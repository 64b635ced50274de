/**
 * `npm run call -- <Service/Method> '<json>'`: a developer client of a running
 * Larder (`npm start`). It reads the .proto files at run time with
 * @grpc/proto-loader (no generated code, no reflection), sends the JSON as the
 * request with an API key, and prints the answer as JSON. See scripts/call/usage.ts.
 */
import { Client, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { readInventoryConfig } from '../services/inventory/operator.js';
import { readOrderConfig } from '../services/order/operator.js';
import { findMethod, loadContracts, type Contracts, type Target } from './call/contracts.js';
import { describeError } from './call/errors.js';
import { fromResponse, toRequest } from './call/json.js';
import { parseArgs, USAGE, UsageError, type Invocation } from './call/usage.js';

const SERVICES = {
  inventory: { config: readInventoryConfig({}), addr: 'INVENTORY_ADDR', port: 'INVENTORY_GRPC_PORT' },
  order: { config: readOrderConfig({}), addr: 'ORDER_ADDR', port: 'ORDER_GRPC_PORT' },
} as const;
type ServiceName = keyof typeof SERVICES;

/** Which Larder service serves a gRPC service: by package; health (served by both) goes to inventory. */
const serverOf = (service: string): ServiceName => (service.startsWith('larder.order.') ? 'order' : 'inventory');

function addressOf(name: ServiceName): string {
  const { config, addr, port } = SERVICES[name];
  return process.env[addr] ?? `127.0.0.1:${process.env[port] ?? config.grpcPort}`;
}

function list(contracts: Contracts): void {
  for (const [service, methods] of contracts.services) {
    console.log(`${service}  (${serverOf(service)}, ${addressOf(serverOf(service))})`);
    for (const [name, method] of methods) {
      const type = (of: typeof method.requestType) => (of.type as { name: string }).name;
      const stream = (yes: boolean) => (yes ? 'stream ' : '');
      console.log(
        `  ${name}(${stream(method.requestStream)}${type(method.requestType)}) returns (${stream(method.responseStream)}${type(method.responseType)})`,
      );
    }
  }
}

function metadataFor(invocation: Invocation, server: ServiceName): Metadata {
  const metadata = new Metadata();
  // The development key with every scope (the first one, `admin`), as npm start prints it.
  const developmentKey = SERVICES[server].config.apiKeys.find((k) => k.scopes.has('*'))?.key;
  const key = invocation.key === undefined ? process.env.LARDER_API_KEY || developmentKey : invocation.key;
  if (key) metadata.set('authorization', `Bearer ${key}`);
  for (const [name, value] of invocation.headers) metadata.add(name, value);
  return metadata;
}

function failed(error: ServiceError): never {
  for (const line of describeError(error)) console.error(line);
  process.exit(1);
}

function call(contracts: Contracts, target: Target, request: object, addr: string, metadata: Metadata): void {
  const client = new Client(addr, credentials.createInsecure());
  const { path, requestSerialize, responseDeserialize, responseStream } = target.definition;
  const show = (message: object) => fromResponse(contracts, target.response, message);
  if (!responseStream) {
    client.makeUnaryRequest(path, requestSerialize, responseDeserialize, request, metadata, {}, (error, response) => {
      if (error) failed(error);
      console.log(JSON.stringify(show(response!), null, 2));
      client.close();
    });
    return;
  }
  const stream = client.makeServerStreamRequest(path, requestSerialize, responseDeserialize, request, metadata, {});
  let interrupted = false;
  process.once('SIGINT', () => {
    interrupted = true;
    stream.cancel();
  });
  stream.on('data', (message: object) => console.log(JSON.stringify(show(message))));
  stream.on('error', (error: ServiceError) => (interrupted ? process.exit(130) : failed(error)));
  stream.on('end', () => client.close());
}

function main(argv: readonly string[]): void {
  const invocation = parseArgs(argv);
  if (invocation.help) return console.log(USAGE);
  const contracts = loadContracts();
  if (invocation.list) return list(contracts);
  const target = findMethod(contracts, invocation.target!);
  let json: unknown;
  try {
    json = JSON.parse(invocation.json);
  } catch (error) {
    throw new UsageError(`the request is not JSON: ${(error as Error).message}`);
  }
  const request = toRequest(contracts, target.request, json);
  const named = invocation.addr === 'inventory' || invocation.addr === 'order' ? invocation.addr : undefined;
  const server = named ?? serverOf(target.service);
  const addr = named || !invocation.addr ? addressOf(server) : invocation.addr;
  call(contracts, target, request, addr, metadataFor(invocation, server));
}

try {
  main(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  console.error(`${error.message}\n\n${USAGE}`);
  process.exit(2);
}
