import { BinaryReader } from '@bufbuild/protobuf/wire';

/**
 * An index over a FileDescriptorSet (as `buf build` writes it): file bytes by
 * name and by every symbol they declare, plus the service names. Only the
 * fields reflection needs are decoded; the file bytes are served untouched, so
 * clients see exactly what buf built (snake_case names, comments, imports).
 */
export interface DescriptorIndex {
  /** File name → serialized FileDescriptorProto. */
  files: Map<string, Uint8Array>;
  /** File name → names of the files it imports. */
  dependencies: Map<string, string[]>;
  /** Fully-qualified symbol → file name. */
  symbols: Map<string, string>;
  services: string[];
}

// Field numbers from google/protobuf/descriptor.proto.
const SET_FILE = 1;
const FILE = { name: 1, package: 2, dependency: 3, messageType: 4, enumType: 5, service: 6, extension: 7 } as const;
const MESSAGE = { name: 1, field: 2, nestedType: 3, enumType: 4, extension: 6, oneofDecl: 8 } as const;
const NAMED = { name: 1 } as const;
const ENUM = { name: 1, value: 2 } as const;
const SERVICE = { name: 1, method: 2 } as const;

/** Called with each length-delimited field's number and bytes (strings and sub-messages). */
type Visit = (field: number, value: Uint8Array) => void;

function readMessage(bytes: Uint8Array, visit: Visit): void {
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (wireType === 2) {
      const length = reader.uint32();
      const start = reader.pos;
      visit(field, bytes.subarray(start, start + length));
      reader.pos = start + length;
    } else {
      reader.skip(wireType);
    }
  }
}

const decoder = new TextDecoder();
const str = (value: Uint8Array): string => decoder.decode(value);

function nameOf(bytes: Uint8Array): string {
  let name = '';
  readMessage(bytes, (field, value) => {
    if (field === NAMED.name) name = str(value);
  });
  return name;
}

function indexEnum(bytes: Uint8Array, scope: string, add: (symbol: string) => void): void {
  const name = `${scope}${nameOf(bytes)}`;
  add(name);
  readMessage(bytes, (field, value) => {
    // Enum values are scoped like siblings of the enum (C++ scoping rules).
    if (field === ENUM.value) add(`${scope}${nameOf(value)}`);
  });
}

function indexMessage(bytes: Uint8Array, scope: string, add: (symbol: string) => void): void {
  const name = `${scope}${nameOf(bytes)}`;
  add(name);
  readMessage(bytes, (field, child) => {
    if (field === MESSAGE.nestedType) indexMessage(child, `${name}.`, add);
    else if (field === MESSAGE.enumType) indexEnum(child, `${name}.`, add);
    else if (field === MESSAGE.field || field === MESSAGE.extension || field === MESSAGE.oneofDecl) add(`${name}.${nameOf(child)}`);
  });
}

export function indexDescriptorSet(set: Uint8Array): DescriptorIndex {
  const index: DescriptorIndex = { files: new Map(), dependencies: new Map(), symbols: new Map(), services: [] };
  readMessage(set, (field, value) => {
    if (field !== SET_FILE) return;
    const file = value.slice();
    let fileName = '';
    let pkg = '';
    const deps: string[] = [];
    const declarations: { kind: number; bytes: Uint8Array }[] = [];
    readMessage(file, (f, v) => {
      if (f === FILE.name) fileName = str(v);
      else if (f === FILE.package) pkg = str(v);
      else if (f === FILE.dependency) deps.push(str(v));
      else if (f === FILE.messageType || f === FILE.enumType || f === FILE.service || f === FILE.extension) {
        declarations.push({ kind: f, bytes: v });
      }
    });
    const scope = pkg ? `${pkg}.` : '';
    const add = (symbol: string) => index.symbols.set(symbol, fileName);
    for (const { kind, bytes } of declarations) {
      if (kind === FILE.messageType) indexMessage(bytes, scope, add);
      else if (kind === FILE.enumType) indexEnum(bytes, scope, add);
      else if (kind === FILE.extension) add(`${scope}${nameOf(bytes)}`);
      else {
        const service = `${scope}${nameOf(bytes)}`;
        add(service);
        index.services.push(service);
        readMessage(bytes, (f, v) => {
          if (f === SERVICE.method) add(`${service}.${nameOf(v)}`);
        });
      }
    }
    index.files.set(fileName, file);
    index.dependencies.set(fileName, deps);
  });
  return index;
}

/** The file and everything it imports, transitively, the file itself first. */
export function withDependencies(index: DescriptorIndex, fileName: string): Uint8Array[] {
  const ordered: string[] = [];
  const visit = (name: string) => {
    if (ordered.includes(name) || !index.files.has(name)) return;
    ordered.push(name);
    for (const dep of index.dependencies.get(name) ?? []) visit(dep);
  };
  visit(fileName);
  return ordered.map((name) => index.files.get(name)!);
}
