import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';
import { UsageError } from './usage.js';

/** Where buf.yaml's two modules live: our contracts, and the vendored Google/gRPC ones. */
const PROTO_DIR = fileURLToPath(new URL('../../proto/', import.meta.url));
const THIRD_PARTY_DIR = fileURLToPath(new URL('../../third_party/', import.meta.url));
/** Every Larder server also runs health (reflection is bidirectional streaming: use buf curl for it). */
const ALSO_SERVED = ['grpc/health/v1/health.proto'];

export interface Field {
  name: string;
  label: string;
  type: string;
  /** Relative to the message's package, as protobufjs writes it (e.g. `common.v1.Money`). */
  typeName: string;
}
export interface Message {
  fullName: string;
  field: Field[];
}
export type Method = protoLoader.MethodDefinition<object, object>;

export interface Contracts {
  /** Full service name → method name → definition. */
  services: Map<string, Map<string, Method>>;
  messages: Map<string, Message>;
  /** Full enum name → its value names. */
  enums: Map<string, string[]>;
  /** The full name of the message a type name used inside `scope` (a message or service) refers to. */
  resolve(scope: string, typeName: string): string;
}

function protoFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? protoFiles(`${dir}/${entry.name}`, `${prefix}${entry.name}/`)
      : entry.name.endsWith('.proto')
        ? [`${prefix}${entry.name}`]
        : [],
  );
}

/** Every .proto under proto/, read now (not the generated code), with the options `npm run call` needs. */
export function loadContracts(): Contracts {
  const definition = protoLoader.loadSync([...protoFiles(PROTO_DIR), ...ALSO_SERVED], {
    includeDirs: [PROTO_DIR, THIRD_PARTY_DIR],
    keepCase: true,
    defaults: true,
    longs: String,
    enums: String,
  });
  const services = new Map<string, Map<string, Method>>();
  const messages = new Map<string, Message>();
  const enums = new Map<string, string[]>();
  for (const [fullName, entry] of Object.entries(definition)) {
    if (entry.format === 'Protocol Buffer 3 DescriptorProto') messages.set(fullName, { fullName, field: (entry.type as Message).field });
    else if (entry.format === 'Protocol Buffer 3 EnumDescriptorProto') {
      enums.set(
        fullName,
        (entry.type as { value: { name: string }[] }).value.map((v) => v.name),
      );
    } else {
      services.set(fullName, new Map(Object.entries(entry)));
    }
  }
  const resolve = (scope: string, typeName: string): string => {
    if (typeName.startsWith('.')) return typeName.slice(1);
    const parts = scope.split('.');
    for (let i = parts.length; i >= 0; i -= 1) {
      const candidate = [...parts.slice(0, i), typeName].join('.');
      if (messages.has(candidate) || enums.has(candidate)) return candidate;
    }
    return typeName;
  };
  return { services, messages, enums, resolve };
}

export interface Target {
  service: string;
  method: string;
  definition: Method;
  request: string;
  response: string;
}

/** `Service/Method` with the service's short or full name, e.g. `InventoryService/GetProduct`. */
export function findMethod(contracts: Contracts, target: string): Target {
  const match = /^([\w.]+)\/(\w+)$/.exec(target);
  if (!match) throw new UsageError(`"${target}" is not <Service/Method>`);
  const [, serviceName, methodName] = match as unknown as [string, string, string];
  const candidates = [...contracts.services.keys()].filter((name) => name === serviceName || name.endsWith(`.${serviceName}`));
  if (candidates.length === 0) throw new UsageError(`no service "${serviceName}"; services: ${[...contracts.services.keys()].join(', ')}`);
  if (candidates.length > 1) throw new UsageError(`"${serviceName}" could be ${candidates.join(' or ')}: give the full name`);
  const service = candidates[0]!;
  const methods = contracts.services.get(service)!;
  const method = methods.has(methodName) ? methodName : [...methods.keys()].find((m) => m.toLowerCase() === methodName.toLowerCase());
  if (!method) throw new UsageError(`${service} has no method "${methodName}"; it has ${[...methods.keys()].join(', ')}`);
  const definition = methods.get(method)!;
  if (definition.requestStream) throw new UsageError(`${service}/${method} streams requests, which npm run call does not send`);
  const typeOf = (path: 'requestType' | 'responseType') => contracts.resolve(service, (definition[path].type as { name: string }).name);
  return { service, method, definition, request: typeOf('requestType'), response: typeOf('responseType') };
}
