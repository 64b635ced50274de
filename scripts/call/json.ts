import type { Contracts, Field } from './contracts.js';
import { UsageError } from './usage.js';

/**
 * proto-loader (protobufjs) reads and writes plain objects keyed by field name,
 * silently dropping keys it does not know, and takes well-known types as their
 * fields ({seconds, nanos}). These turn a proto3-JSON-like request into that form
 * (refusing unknown fields) and an answer back into JSON a person reads.
 */

const TIMESTAMP = 'google.protobuf.Timestamp';
const DURATION = 'google.protobuf.Duration';
const FIELD_MASK = 'google.protobuf.FieldMask';

const camel = (name: string) => name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function wellKnownIn(type: string, value: unknown, path: string): unknown {
  if (typeof value !== 'string') return undefined;
  if (type === TIMESTAMP) {
    const ms = Date.parse(value);
    if (Number.isNaN(ms)) throw new UsageError(`${path}: "${value}" is not an RFC 3339 time`);
    return { seconds: String(Math.floor(ms / 1000)), nanos: (((ms % 1000) + 1000) % 1000) * 1e6 };
  }
  if (type === DURATION) {
    const match = /^(-?)(\d+)(?:\.(\d{1,9}))?s$/.exec(value);
    if (!match) throw new UsageError(`${path}: "${value}" is not a duration such as "600s" or "1.5s"`);
    const nanos = Number((match[3] ?? '').padEnd(9, '0'));
    return { seconds: `${match[1]}${match[2]}`, nanos: match[1] ? -nanos : nanos };
  }
  if (type === FIELD_MASK)
    return {
      paths: value
        .split(',')
        .filter(Boolean)
        .map((p) => p.split('.').map(snake).join('.')),
    };
  return undefined;
}

function wellKnownOut(type: string, value: Record<string, unknown>): unknown {
  if (type === TIMESTAMP) return new Date(Number(value.seconds) * 1000 + Number(value.nanos) / 1e6).toISOString();
  if (type === DURATION) {
    const nanos = Math.abs(Number(value.nanos));
    return `${value.seconds}${nanos ? `.${String(nanos).padStart(9, '0').replace(/0+$/, '')}` : ''}s`;
  }
  if (type === FIELD_MASK) return (value.paths as string[]).join(',');
  return undefined;
}

/** The request as proto-loader takes it; unknown fields and malformed values are UsageErrors naming their path. */
export function toRequest(contracts: Contracts, type: string, value: unknown, path = ''): Record<string, unknown> {
  const message = contracts.messages.get(type);
  if (!message) return value as Record<string, unknown>;
  if (!isObject(value)) throw new UsageError(`${path || 'the request'} must be a JSON object (${type})`);
  const result: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const field = message.field.find((f) => f.name === key || camel(f.name) === key);
    if (!field)
      throw new UsageError(
        `${type} has no field "${key}"${path ? ` (at ${path})` : ''}; it has ${message.field.map((f) => f.name).join(', ')}`,
      );
    const at = path ? `${path}.${field.name}` : field.name;
    const one = (v: unknown, p: string) => {
      if (field.type === 'TYPE_ENUM' && typeof v === 'string') {
        const names = contracts.enums.get(contracts.resolve(type, field.typeName)) ?? [v];
        if (!names.includes(v)) throw new UsageError(`${p}: "${v}" is not one of ${names.join(', ')}`);
      }
      if (field.type !== 'TYPE_MESSAGE' || v === null) return v;
      const nested = contracts.resolve(type, field.typeName);
      return wellKnownIn(nested, v, p) ?? toRequest(contracts, nested, v, p);
    };
    if (field.label === 'LABEL_REPEATED') {
      if (!Array.isArray(item)) throw new UsageError(`${at} must be a JSON array`);
      result[field.name] = item.map((v, i) => one(v, `${at}[${i}]`));
    } else {
      result[field.name] = one(item, at);
    }
  }
  return result;
}

/** An answer as JSON: field names as in the .proto, well-known types as proto3 JSON writes them. */
export function fromResponse(contracts: Contracts, type: string, value: unknown): unknown {
  const message = contracts.messages.get(type);
  if (!message || !isObject(value)) return value;
  const one = (field: Field, v: unknown) => {
    if (field.type !== 'TYPE_MESSAGE' || !isObject(v)) return v;
    const nested = contracts.resolve(type, field.typeName);
    return wellKnownOut(nested, v) ?? fromResponse(contracts, nested, v);
  };
  const result: Record<string, unknown> = {};
  for (const field of message.field) {
    const v = value[field.name];
    result[field.name] = Array.isArray(v) ? v.map((x) => one(field, x)) : one(field, v);
  }
  return result;
}
