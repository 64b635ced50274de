import { readFileSync } from 'node:fs';
import { Client, credentials, status as Code, type ServiceError } from '@grpc/grpc-js';
import { createFileRegistry, fromBinary, ScalarType, type DescField, type DescMessage, type DescMethod } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { bearer } from './raw-grpc.js';
import { seededRandom } from './seeded-random.js';

/**
 * A hostile-input fuzzer driven by the descriptor set (libs/contracts/descriptors.binpb):
 * it walks each method's request message (scalars, enums, nested and well-known
 * messages, repeated fields, oneofs, proto3 optionals) and writes random requests
 * at the wire level with its own writer, so it sends what the generated encoders
 * would refuse (int64 past 2^53, overlong varints, invalid UTF-8, two members of
 * one oneof, duplicate entries), plus mutated and garbage bytes. Seeded: the
 * requests of a method depend only on the seed and the method's name.
 */

export const DESCRIPTOR_SET = new URL('../../libs/contracts/descriptors.binpb', import.meta.url).pathname;

/** Every method of the named services, in descriptor order. */
export function methodsOf(serviceNames: readonly string[], path = DESCRIPTOR_SET): DescMethod[] {
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(path)));
  return serviceNames.flatMap((name) => {
    const service = registry.getService(name);
    if (!service) throw new Error(`${name} is not in ${path}`);
    return service.methods;
  });
}

/** `/package.Service/Method`, the gRPC path of a method. */
export const pathOf = (method: DescMethod): string => `/${method.parent.typeName}/${method.name}`;

/** Values worth reusing so that some requests reach past validation: fixture ids, page tokens, plausible texts. */
export interface FuzzPools {
  /** Ids of rows that exist (products, orders, customers, locations…). */
  ids: readonly string[];
  /** Page tokens a List RPC issued. */
  pageTokens: readonly string[];
}

/** How a request was made; `shape` is a readable sketch of what was written (strings cut short). */
export interface FuzzRequest {
  method: DescMethod;
  index: number;
  kind: 'descriptor' | 'mutated' | 'garbage';
  /** Which credentials to send: the admin key, none, or a key lacking the scope (or unknown). */
  key: 'admin' | 'none' | 'other';
  bytes: Uint8Array;
  shape: unknown;
  /** The chance each value had of being hostile (1: all of them; 0: a plausible request). */
  hostility: number;
}

/** A seed for a text: the method's requests do not change when other methods are added or filtered out. */
function hashOf(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i += 1) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

const INT32_MAX = 2 ** 31 - 1;
const INT32_MIN = -(2 ** 31);
const HOSTILE_INT32 = [0, -1, 1, INT32_MAX, INT32_MIN, INT32_MAX - 1, INT32_MIN + 1, 1000, 1_000_000];
const HOSTILE_UINT32 = [0, 1, 2 ** 32 - 1, INT32_MAX, 2 ** 31];
const HOSTILE_INT64: bigint[] = [
  0n,
  -1n,
  1n,
  2n ** 31n,
  2n ** 32n,
  2n ** 53n - 1n,
  2n ** 53n,
  2n ** 53n + 1n,
  -(2n ** 53n) + 1n,
  -(2n ** 53n) - 1n,
  2n ** 63n - 1n,
  -(2n ** 63n),
];
const HOSTILE_UINT64: bigint[] = [0n, 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n];
const HOSTILE_DOUBLES = [NaN, Infinity, -Infinity, -0, 0, 1e308, -1e308, 5e-324, 0.1, 90.0000001, -90.5, 180.5, -181, 3.4e38, 1e-7];
const BAD_UUIDS = [
  '',
  'not-a-uuid',
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  '{6f1c7a8e-3b0e-4d3a-9a51-0c7c2b0e9f11}',
  '6f1c7a8e3b0e4d3a9a510c7c2b0e9f11',
  '6f1c7a8e-3b0e-4d3a-9a51-0c7c2b0e9f1',
  '6f1c7a8e-3b0e-4d3a-9a51-0c7c2b0e9f11 ',
  ' 6f1c7a8e-3b0e-4d3a-9a51-0c7c2b0e9f11',
  '6f1c7a8e-3b0e-4d3a-9a51-0c7c2b0e9f11\u0000',
  '6F1C7A8E-3B0E-4D3A-9A51-0C7C2B0E9F1G',
  "' OR 1=1 --",
];
const HOSTILE_STRINGS = [
  '',
  ' ',
  '\t\n\r',
  '\u0000',
  'a\u0000b',
  '\u0007\u001b[31mred\u001b[0m',
  '%',
  '_',
  '%_%',
  '\\',
  "'; DROP TABLE products; --",
  '"quoted"',
  'Ωmega ünïcödé',
  '🥕🧅🥔',
  '👨‍👩‍👧‍👦',
  'e\u0301\u0301\u0301\u0301',
  '\u202eevil\u202c',
  '\ufeffbom',
  '\ud800',
  '\u2028\u2029',
  'null',
  'undefined',
  'NaN',
  '-1',
  '0',
  '1e309',
  '../../etc/passwd',
  '${jndi:ldap://x}',
  '<script>alert(1)</script>',
  '*',
  'a.b.c',
];
/** Bytes that are not UTF-8: a string field the decoder must refuse or replace, never crash on. */
const INVALID_UTF8 = [
  Uint8Array.of(0xff),
  Uint8Array.of(0xc3, 0x28),
  Uint8Array.of(0xed, 0xa0, 0x80),
  Uint8Array.of(0xf8, 0x88, 0x80, 0x80, 0x80),
];
const WORDS = ['apple', 'Carrot', 'EUR', 'NL', 'default', 'tok_ok', 'tok_decline', 'main', 'x', 'Amsterdam', '1015 AA', 'Keizersgracht 1'];
const CODE_LIKE: Record<string, readonly string[]> = {
  currency_code: ['EUR', 'USD', 'eur', 'XXX', 'EURO', 'E', '€'],
  country_code: ['NL', 'DE', 'nl', 'XX', 'NLD', 'N'],
  payment_token: ['tok_ok', 'tok_decline', 'tok_timeout', 'tok_', 'tok_unknown'],
  code: ['default', 'store-1', 'DS_AMS', 'dark store', 'a'],
};
/** Integer fields whose plausible values are small positives: quantities, sizes, thresholds. */
const SMALL_INTS = [1, 2, 3, 5, 10];

class Generator {
  /** Inside a repeated field with many entries: no huge strings, no deep nesting (keeps requests under 4 MB). */
  private lean = 0;
  /**
   * Characters left for long strings in this request: one huge string, not several
   * (a request of megabytes measures the machine's load more than the service).
   */
  private longBudget = 0;
  /**
   * The chance that a value is hostile rather than plausible, set per request: a
   * request that is hostile everywhere rarely gets past the first field's check,
   * so some are near-valid with a hostile value or two, to reach the data layer.
   */
  hostility = 1;

  constructor(
    private readonly random: () => number,
    private readonly pools: FuzzPools,
    private readonly maskPaths: readonly string[],
  ) {}

  int(n: number): number {
    return Math.floor(this.random() * n);
  }
  chance(p: number): boolean {
    return this.random() < p;
  }
  hostile(): boolean {
    return this.random() < this.hostility;
  }
  pick<T>(values: readonly T[]): T {
    return values[this.int(values.length)]!;
  }

  uuid(): string {
    const hex = () => this.int(16).toString(16);
    const part = (n: number) => Array.from({ length: n }, hex).join('');
    return `${part(8)}-${part(4)}-4${part(3)}-${this.pick(['8', '9', 'a', 'b'])}${part(3)}-${part(12)}`;
  }

  /** A string for field `name`: a fixture id, a plausible text, or something hostile. */
  text(name: string): string | Uint8Array {
    if (!this.hostile()) return this.plausibleText(name);
    const roll = this.random();
    if ((name.endsWith('id') || name.endsWith('ids')) && roll < 0.6) {
      const r = this.random();
      if (r < 0.55 && this.pools.ids.length > 0) return this.pick(this.pools.ids);
      if (r < 0.65 && this.pools.ids.length > 0) return this.pick(this.pools.ids).toUpperCase();
      if (r < 0.8) return this.uuid();
      return this.pick(BAD_UUIDS);
    }
    if (name === 'page_token' && roll < 0.5 && this.pools.pageTokens.length > 0) {
      const token = this.pick(this.pools.pageTokens);
      // A real token, or one with a byte changed or cut.
      return this.chance(0.5) ? token : this.chance(0.5) ? token.slice(0, this.int(token.length)) : `${token}x`;
    }
    const codes = CODE_LIKE[name];
    if (codes && roll < 0.5) return this.pick(codes);
    if (name === 'idempotency_key' && roll < 0.5) return `fuzz-${this.int(6)}`;
    if (roll < 0.75) {
      const r = this.random();
      if (r < 0.35) return this.pick(WORDS);
      if (r < 0.75) return this.pick(HOSTILE_STRINGS);
      if (r < 0.85) return this.pick(INVALID_UTF8);
      if (r < 0.92) return this.pick(BAD_UUIDS);
      return this.pick(HOSTILE_STRINGS) + this.pick(WORDS);
    }
    // Long: just past typical limits, or huge.
    const sizes = (this.lean > 0 ? [64, 129, 256] : [64, 129, 256, 1025, 4097, 65_537, 200_000]).filter((n) => n <= this.longBudget);
    const size = sizes.length > 0 ? this.pick(sizes) : 0;
    this.longBudget -= size;
    return this.pick(['a', 'é', '🥕', '\u0000', ' ']).repeat(size);
  }

  /** A value that passes validation, as far as a name can tell. */
  plausibleText(name: string): string {
    if (name.endsWith('id') || name.endsWith('ids'))
      return this.pools.ids.length > 0 && this.chance(0.85) ? this.pick(this.pools.ids) : this.uuid();
    if (name === 'page_token') return this.pools.pageTokens.length > 0 && this.chance(0.5) ? this.pick(this.pools.pageTokens) : '';
    const codes = CODE_LIKE[name];
    if (codes) return codes[0]!;
    if (name === 'idempotency_key') return `fuzz-${this.int(1_000)}`;
    if (name === 'sku' || name === 'code') return `FZ-${this.int(1_000_000)}`;
    if (name === 'postal_code') return '1015 AA';
    return `${this.pick(WORDS)} ${this.int(1_000)}`;
  }

  /** Writes one value of a scalar field (tag included); returns its sketch. */
  scalar(writer: BinaryWriter, field: DescField, number: number, type: ScalarType): unknown {
    const small = /quantity|delta|stock|size|threshold|minor_units|priority|radius|nanos|seconds|received/.test(field.name);
    switch (type) {
      case ScalarType.STRING: {
        const value = this.text(field.name);
        writer.tag(number, WireType.LengthDelimited);
        if (typeof value === 'string') writer.string(value);
        else writer.bytes(value);
        return typeof value === 'string' ? sketch(value) : `<bytes ${Buffer.from(value).toString('hex')}>`;
      }
      case ScalarType.BYTES: {
        const value = Uint8Array.from({ length: this.pick([0, 1, 16, 300]) }, () => this.int(256));
        writer.tag(number, WireType.LengthDelimited).bytes(value);
        return `<${value.length} bytes>`;
      }
      case ScalarType.BOOL: {
        if (this.hostile() && this.chance(0.1)) {
          // Non-canonical true.
          writer.tag(number, WireType.Varint).uint32(2);
          return '<bool 2>';
        }
        const value = this.chance(0.5);
        writer.tag(number, WireType.Varint).bool(value);
        return value;
      }
      case ScalarType.INT32:
      case ScalarType.SINT32:
      case ScalarType.SFIXED32: {
        if (type === ScalarType.INT32 && this.chance(0.05)) {
          // A varint past 32 bits under an int32 field: decoders truncate it.
          const value = this.pick([2n ** 32n, 2n ** 40n + 5n, -(2n ** 40n)]);
          writer.tag(number, WireType.Varint).int64(value);
          return `<int64 ${value}>`;
        }
        const value =
          !this.hostile() || (small && this.chance(0.5))
            ? this.pick(SMALL_INTS)
            : this.chance(0.7)
              ? this.pick(HOSTILE_INT32)
              : this.int(200) - 100;
        if (type === ScalarType.INT32) writer.tag(number, WireType.Varint).int32(value);
        else if (type === ScalarType.SINT32) writer.tag(number, WireType.Varint).sint32(value);
        else writer.tag(number, WireType.Bit32).sfixed32(value);
        return value;
      }
      case ScalarType.UINT32:
      case ScalarType.FIXED32: {
        const value = !this.hostile() || (small && this.chance(0.5)) ? this.pick(SMALL_INTS) : this.pick(HOSTILE_UINT32);
        if (type === ScalarType.UINT32) writer.tag(number, WireType.Varint).uint32(value);
        else writer.tag(number, WireType.Bit32).fixed32(value);
        return value;
      }
      case ScalarType.INT64:
      case ScalarType.SINT64:
      case ScalarType.SFIXED64: {
        const value = !this.hostile() || (small && this.chance(0.5)) ? BigInt(this.pick(SMALL_INTS)) : this.pick(HOSTILE_INT64);
        if (type === ScalarType.INT64) writer.tag(number, WireType.Varint).int64(value);
        else if (type === ScalarType.SINT64) writer.tag(number, WireType.Varint).sint64(value);
        else writer.tag(number, WireType.Bit64).sfixed64(value);
        return `${value}`;
      }
      case ScalarType.UINT64:
      case ScalarType.FIXED64: {
        const value = !this.hostile() || (small && this.chance(0.5)) ? BigInt(this.pick(SMALL_INTS)) : this.pick(HOSTILE_UINT64);
        if (type === ScalarType.UINT64) writer.tag(number, WireType.Varint).uint64(value);
        else writer.tag(number, WireType.Bit64).fixed64(value);
        return `${value}`;
      }
      case ScalarType.DOUBLE:
      case ScalarType.FLOAT: {
        const plausible = field.name === 'latitude' ? 52.37 : field.name === 'longitude' ? 4.89 : 1.5;
        const value = !this.hostile() || this.chance(0.3) ? plausible : this.pick(HOSTILE_DOUBLES);
        if (type === ScalarType.DOUBLE) writer.tag(number, WireType.Bit64).double(value);
        else writer.tag(number, WireType.Bit32).float(value);
        return Object.is(value, -0) ? '-0' : Number.isFinite(value) ? value : String(value);
      }
    }
  }

  enumValue(writer: BinaryWriter, number: number, values: readonly number[]): unknown {
    const named = values.filter((v) => v !== 0);
    const r = this.random();
    const value = !this.hostile()
      ? this.pick(named.length > 0 ? named : values)
      : r < 0.6
        ? this.pick(values)
        : r < 0.7
          ? 0
          : this.pick([99, -1, INT32_MAX, INT32_MIN, values.length]);
    writer.tag(number, WireType.Varint).int32(value);
    return value;
  }

  /** Starts a request: `hostility` for its values, a fresh budget for long strings. */
  begin(hostility: number): void {
    this.hostility = hostility;
    this.longBudget = 250_000;
  }

  /** One message's fields, written to `writer`; returns its sketch. */
  message(writer: BinaryWriter, desc: DescMessage, depth: number): Record<string, unknown> {
    const shape: Record<string, unknown> = {};
    if (desc.typeName === 'google.protobuf.FieldMask') return this.fieldMask(writer, shape);
    // A near-valid request sets fewer fields below the top (fewer read-only and exclusive ones).
    const setChance = this.hostility < 0.5 ? (depth === 0 ? 0.75 : 0.5) : depth === 0 ? 0.8 : 0.65;
    // A oneof gets none, one, or (hostile) two of its members; other fields each on their own.
    const chosen = new Set<DescField>();
    for (const oneof of desc.oneofs) {
      const count = this.hostile() ? this.pick([0, 1, 1, 1, 2]) : 1;
      for (let i = 0; i < count; i += 1) chosen.add(this.pick(oneof.fields));
    }
    for (const field of desc.fields) {
      // A plausible request sets nearly every plain field (most are required) and some messages.
      const chance =
        this.hostility === 0
          ? field.fieldKind === 'message'
            ? depth === 0
              ? 0.8
              : 0.6
            : 0.9
          : this.hostility < 0.5 && depth > 0 && field.fieldKind === 'message'
            ? setChance / 2
            : setChance;
      if (field.oneof ? !chosen.has(field) : !this.chance(chance)) continue;
      shape[field.name] = this.field(writer, field, depth);
    }
    return shape;
  }

  private fieldMask(writer: BinaryWriter, shape: Record<string, unknown>): Record<string, unknown> {
    const count = this.hostile() ? this.pick([0, 1, 1, 2, 3, 40]) : 1;
    const paths: string[] = [];
    for (let i = 0; i < count; i += 1) {
      const junk = this.text('path');
      const path = this.chance(0.6) && this.maskPaths.length > 0 ? this.pick(this.maskPaths) : typeof junk === 'string' ? junk : '';
      paths.push(this.chance(0.1) && paths.length > 0 && paths[0]!.length <= 256 ? paths[0]! : path);
    }
    for (const path of paths) writer.tag(1, WireType.LengthDelimited).string(path);
    shape.paths = paths.map(sketch);
    return shape;
  }

  private field(writer: BinaryWriter, field: DescField, depth: number): unknown {
    switch (field.fieldKind) {
      case 'scalar':
        return this.scalar(writer, field, field.number, field.scalar);
      case 'enum':
        return this.enumValue(
          writer,
          field.number,
          field.enum.values.map((v) => v.number),
        );
      case 'message':
        return this.nested(writer, field.number, field.message, depth);
      case 'list':
        return this.list(writer, field, depth);
      case 'map': {
        // No request has a map today; should one come, its entries ({1: key, 2: value}) get a hostile key and no value.
        const entries = this.int(3);
        for (let i = 0; i < entries; i += 1) {
          writer.tag(field.number, WireType.LengthDelimited).fork();
          this.scalar(writer, field, 1, field.mapKey);
          writer.join();
        }
        return `<map ${entries}>`;
      }
    }
  }

  private nested(writer: BinaryWriter, number: number, desc: DescMessage, depth: number): unknown {
    writer.tag(number, WireType.LengthDelimited).fork();
    // Present but empty is its own case; deep down, always empty.
    const shape = depth >= 4 || (this.hostile() && this.chance(0.12)) ? {} : this.message(writer, desc, depth + 1);
    writer.join();
    return shape;
  }

  private list(writer: BinaryWriter, field: DescField & { fieldKind: 'list' }, depth: number): unknown {
    const hostile = this.hostile();
    const r = hostile ? this.random() : 0.15 + this.random() * 0.6;
    // Many entries once per branch: a list of 300 inside a list of 300 would be megabytes.
    const many = r > 0.88 && this.lean === 0;
    const count = r < 0.15 ? 0 : r < 0.45 ? 1 : !many ? 2 + this.int(4) : this.pick([50, 120, 300]);
    const duplicates = hostile && this.chance(0.15);
    if (many) this.lean += 1;
    try {
      const one = (w: BinaryWriter) => {
        switch (field.listKind) {
          case 'scalar':
            return this.scalar(w, field, field.number, field.scalar);
          case 'enum':
            return this.enumValue(
              w,
              field.number,
              field.enum.values.map((v) => v.number),
            );
          case 'message':
            return this.nested(w, field.number, field.message, depth);
        }
      };
      if (count === 0) return [];
      if (duplicates) {
        // The same entry over and over: written once (lean: it is copied), copied at the byte level.
        const entry = new BinaryWriter();
        this.lean += 1;
        const sketched = one(entry);
        this.lean -= 1;
        const bytes = entry.finish();
        for (let i = 0; i < count + 1; i += 1) writer.raw(bytes);
        return [`${count + 1} × ${JSON.stringify(sketched)}`];
      }
      const items: unknown[] = [];
      for (let i = 0; i < count; i += 1) items.push(one(writer));
      return items.length > 5 ? [...items.slice(0, 3), `… ${items.length} entries`] : items;
    } finally {
      if (many) this.lean -= 1;
    }
  }
}

function sketch(value: string): string {
  const shown = value.length > 40 ? `${value.slice(0, 20)}…(${value.length} chars)` : value;
  return JSON.stringify(shown).slice(1, -1);
}

/** Field names reachable from a message (snake and JSON), for field masks: real paths beside junk. */
function fieldPaths(desc: DescMessage, depth = 0, prefix = ''): string[] {
  const paths: string[] = [];
  for (const field of desc.fields) {
    paths.push(`${prefix}${field.name}`);
    if (field.jsonName !== field.name) paths.push(`${prefix}${field.jsonName}`);
    if (depth < 1 && field.fieldKind === 'message' && !field.message.typeName.startsWith('google.')) {
      paths.push(...fieldPaths(field.message, depth + 1, `${field.name}.`));
      if (depth === 0) paths.push(...fieldPaths(field.message, depth + 1));
    }
  }
  return paths;
}

/** Random bytes, or bytes shaped to trouble a decoder (huge lengths, bad wire types, endless varints). */
function garbage(random: () => number): Uint8Array {
  const int = (n: number) => Math.floor(random() * n);
  switch (int(5)) {
    case 0:
      return Uint8Array.from({ length: int(64) }, () => int(256));
    case 1:
      return Uint8Array.of(0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x41); // length 4 GiB, one byte given
    case 2:
      return new Uint8Array(12).fill(0xff); // a varint that never ends
    case 3:
      return Uint8Array.of(0x0b, 0x0c); // start-group then end-group of another field
    default:
      return Uint8Array.of(0x07, 0x01); // wire type 7 does not exist
  }
}

/** A valid request changed at the byte level: cut short, a byte flipped, a known field with the wrong wire type, or unknown fields. */
function mutate(bytes: Uint8Array, random: () => number): { bytes: Uint8Array; how: string } {
  const int = (n: number) => Math.floor(random() * n);
  switch (int(4)) {
    case 0: {
      const cut = bytes.length > 0 ? int(bytes.length) : 0;
      return { bytes: bytes.slice(0, cut), how: `cut at ${cut} of ${bytes.length}` };
    }
    case 1: {
      if (bytes.length === 0) return { bytes: Uint8Array.of(0x08), how: 'tag without value' };
      const copy = bytes.slice();
      const at = int(copy.length);
      copy[at] = copy[at]! ^ (1 << int(8));
      return { bytes: copy, how: `bit flipped at ${at}` };
    }
    case 2: {
      // Field 1 as a fixed64 (every request's field 1 is a string, message or varint).
      const extra = new BinaryWriter().tag(1, WireType.Bit64).fixed64(1n).finish();
      return { bytes: Buffer.concat([bytes, extra]), how: 'field 1 with wire type fixed64' };
    }
    default: {
      const extra = new BinaryWriter().tag(9999, WireType.Varint).uint32(7).tag(1000, WireType.LengthDelimited).string('unknown').finish();
      return { bytes: Buffer.concat([bytes, extra]), how: 'unknown fields 9999 and 1000 appended' };
    }
  }
}

/** `count` requests for `method`, the same for the same seed. */
export function requestsFor(method: DescMethod, seed: number, count: number, pools: FuzzPools): FuzzRequest[] {
  const random = seededRandom(hashOf(`${seed}:${pathOf(method)}`));
  const generator = new Generator(random, pools, fieldPaths(method.input));
  const requests: FuzzRequest[] = [];
  for (let index = 0; index < count; index += 1) {
    const k = random();
    const key = k < 0.9 ? 'admin' : k < 0.95 ? 'none' : 'other';
    const r = random();
    if (r < 0.05) {
      const bytes = garbage(random);
      requests.push({ method, index, kind: 'garbage', key, bytes, shape: `<garbage ${Buffer.from(bytes).toString('hex')}>`, hostility: 1 });
      continue;
    }
    // Half the requests hostile throughout, the rest near-valid with some hostile values.
    generator.begin([1, 1, 0.3, 0.05, 0][Math.floor(random() * 5)]!);
    const writer = new BinaryWriter();
    const shape = generator.message(writer, method.input, 0);
    const bytes = writer.finish();
    if (r < 0.15) {
      const mutated = mutate(bytes, random);
      requests.push({
        method,
        index,
        kind: 'mutated',
        key,
        bytes: mutated.bytes,
        shape: { mutated: mutated.how, from: shape },
        hostility: generator.hostility,
      });
    } else {
      requests.push({ method, index, kind: 'descriptor', key, bytes, shape, hostility: generator.hostility });
    }
  }
  return requests;
}

/** A call's outcome: the status name, 'OK', or 'HANG' (no answer within the deadline). */
export interface FuzzOutcome {
  request: FuzzRequest;
  code: string;
  details: string;
  elapsedMs: number;
}

/**
 * Sends a request with a deadline. A unary call answered DEADLINE_EXCEEDED is a
 * hang. A server stream is opened and must answer (a message, an end or an
 * error) within the deadline: 'STREAMING' when it sent a message (the client
 * then cancels it), 'HANG' when it sent nothing by the deadline.
 */
export function sendFuzz(client: Client, request: FuzzRequest, apiKey: string, deadlineMs: number): Promise<FuzzOutcome> {
  const started = Date.now();
  const path = pathOf(request.method);
  const done = (code: string, details = ''): FuzzOutcome => ({ request, code, details, elapsedMs: Date.now() - started });
  const identity = (b: Buffer) => b;
  const bytes = Buffer.from(request.bytes);
  if (request.method.methodKind === 'server_streaming') {
    return new Promise((resolve) => {
      const call = client.makeServerStreamRequest(path, identity, identity, bytes, bearer(apiKey), {});
      let settled = false;
      const settle = (outcome: FuzzOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(outcome);
      };
      const timer = setTimeout(() => {
        settle(done('HANG', `no message, end or status within ${deadlineMs} ms`));
        call.cancel();
      }, deadlineMs);
      call.on('data', () => {
        // It answered: cancel it, which the server must take cleanly too (the health check after the run).
        settle(done('STREAMING', 'answered, then cancelled by the client'));
        call.cancel();
      });
      call.on('error', (error: ServiceError) => settle(done(Code[error.code]!, error.details)));
      call.on('end', () => settle(done('OK')));
    });
  }
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      path,
      identity,
      identity,
      bytes,
      bearer(apiKey),
      { deadline: Date.now() + deadlineMs },
      (error: ServiceError | null) => {
        if (!error) resolve(done('OK'));
        else if (error.code === Code.DEADLINE_EXCEEDED) resolve(done('HANG', error.details));
        else resolve(done(Code[error.code]!, error.details));
      },
    );
  });
}

/** A plain client for raw calls to one address (close it after). */
export const rawClient = (address: string): Client => new Client(address, credentials.createInsecure());

/** Runs `work` over `items` with at most `concurrency` in flight. */
export async function inPool<T, R>(items: readonly T[], concurrency: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next;
      next += 1;
      results[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

/** The codes per method as a compact table: one row per method, one column per code seen. */
export function tallyTable(outcomes: readonly FuzzOutcome[]): string {
  const codes = [...new Set(outcomes.map((o) => o.code))].sort();
  const rows = new Map<string, Map<string, number>>();
  for (const o of outcomes) {
    const name = `${o.request.method.parent.name}.${o.request.method.name}`;
    const row = rows.get(name) ?? new Map<string, number>();
    row.set(o.code, (row.get(o.code) ?? 0) + 1);
    rows.set(name, row);
  }
  const short = (code: string) =>
    code.replace('INVALID_ARGUMENT', 'INVALID').replace('FAILED_PRECONDITION', 'PRECOND').replace('PERMISSION_DENIED', 'DENIED');
  const width = Math.max(...[...rows.keys()].map((k) => k.length));
  const header = ['method'.padEnd(width), ...codes.map((c) => short(c).padStart(Math.max(4, short(c).length)))].join(' ');
  const lines = [...rows].map(([name, row]) =>
    [name.padEnd(width), ...codes.map((c) => String(row.get(c) ?? '').padStart(Math.max(4, short(c).length)))].join(' '),
  );
  return [header, ...lines].join('\n');
}

/** One line per bad outcome, enough to replay it: method, index, key, kind, code, details and the request's sketch. */
export function describeOutcome(o: FuzzOutcome): string {
  const { request } = o;
  return (
    `${pathOf(request.method)} #${request.index} (${request.kind}, hostility ${request.hostility}, key ${request.key}) → ${o.code} after ${o.elapsedMs} ms: ${o.details}\n` +
    `    request ${JSON.stringify(request.shape)}\n` +
    `    bytes ${Buffer.from(request.bytes).toString('hex').slice(0, 200)}`
  );
}
