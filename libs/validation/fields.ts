import { invalid } from '#libs/errors/app-error.js';
import { isUuid } from '#libs/ids/uuid.js';

/**
 * Validators for decoded requests. Each names the field (proto path) it
 * refuses and why; transport calls them before anything touches the database.
 */

export function requireUuid(field: string, value: string | undefined): string {
  if (!value) throw invalid(field, 'is required');
  if (!isUuid(value)) throw invalid(field, `must be a UUID, got "${truncate(value)}"`);
  return value.toLowerCase();
}

export function optionalUuid(field: string, value: string | undefined): string | undefined {
  return value ? requireUuid(field, value) : undefined;
}

/** A string of at most `max` characters (and at least `min`), trimmed of surrounding white space. */
export function text(field: string, value: string | undefined, { min = 0, max }: { min?: number; max: number }): string {
  const trimmed = (value ?? '').trim();
  if (min > 0 && trimmed.length === 0) throw invalid(field, 'is required');
  if ([...trimmed].length < min) throw invalid(field, `must be at least ${min} characters`);
  if ([...trimmed].length > max) throw invalid(field, `must be at most ${max} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/.test(trimmed)) throw invalid(field, 'must not contain control characters');
  return trimmed;
}

export function integer(field: string, value: number | undefined, { min, max }: { min: number; max: number }): number {
  const n = value ?? 0;
  if (!Number.isSafeInteger(n)) throw invalid(field, 'must be an integer');
  if (n < min || n > max) throw invalid(field, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

/** A proto enum value that is known and not _UNSPECIFIED. */
export function enumValue<E extends number>(
  field: string,
  value: number | undefined,
  allowed: Record<string, E | string>,
  unspecified = 0,
): E {
  const known = Object.values(allowed).filter((v): v is E => typeof v === 'number' && v !== unspecified && v >= 0);
  if (value === undefined || value === unspecified) throw invalid(field, 'is required');
  if (!known.includes(value as E)) throw invalid(field, `unknown value ${value}`);
  return value as E;
}

/** A list of at least min and at most max entries. */
export function listSize<T>(field: string, values: readonly T[] | undefined, { min, max }: { min: number; max: number }): readonly T[] {
  const list = values ?? [];
  if (list.length < min) throw invalid(field, min === 1 ? 'must not be empty' : `must have at least ${min} entries`);
  if (list.length > max) throw invalid(field, `must have at most ${max} entries, got ${list.length}`);
  return list;
}

/** Rejects repeated ids; returns them lower-cased. */
export function distinctUuids(field: string, values: readonly string[]): string[] {
  const seen = new Set<string>();
  return values.map((value, index) => {
    const id = requireUuid(`${field}[${index}]`, value);
    if (seen.has(id)) throw invalid(`${field}[${index}]`, `repeats ${id}`);
    seen.add(id);
    return id;
  });
}

/** ISO 4217-shaped currency code. */
export function currencyCode(field: string, value: string | undefined): string {
  if (!value) throw invalid(field, 'is required');
  if (!/^[A-Z]{3}$/.test(value)) throw invalid(field, `must be three upper-case letters (ISO 4217), got "${truncate(value)}"`);
  return value;
}

/** google.protobuf.Duration → milliseconds within bounds; undefined stays undefined. */
export function durationMs(
  field: string,
  value: { seconds: number; nanos: number } | undefined,
  { minMs, maxMs }: { minMs: number; maxMs: number },
): number | undefined {
  if (!value) return undefined;
  const ms = value.seconds * 1000 + Math.floor(value.nanos / 1e6);
  if (!Number.isFinite(ms) || value.nanos < 0 || value.nanos > 999_999_999) throw invalid(field, 'is not a valid duration');
  if (ms < minMs || ms > maxMs) throw invalid(field, `must be between ${minMs / 1000}s and ${maxMs / 1000}s`);
  return ms;
}

/** AIP-158 page size: 0 means the default, negatives and values over max are refused. */
export function pageSize(field: string, value: number | undefined, { fallback = 50, max = 1000 } = {}): number {
  const n = value ?? 0;
  if (n < 0) throw invalid(field, 'must not be negative');
  if (n > max) throw invalid(field, `must be at most ${max}`);
  return n === 0 ? fallback : n;
}

/** The version an etag this server issued stands for (the row's version, in decimal); undefined when none is sent. */
export function etagVersion(field: string, etag: string | undefined): number | undefined {
  if (!etag) return undefined;
  if (!/^\d{1,9}$/.test(etag)) throw invalid(field, 'is not an etag this server issued');
  return Number(etag);
}

/** Field-mask paths, checked against those the update supports. */
export function maskPaths(field: string, paths: readonly string[] | undefined, allowed: readonly string[]): string[] {
  if (!paths || paths.length === 0) throw invalid(field, `is required; allowed paths: ${allowed.join(', ')}`);
  const unique = [...new Set(paths)];
  for (const path of unique) {
    if (!allowed.includes(path)) throw invalid(field, `cannot update "${truncate(path)}"; allowed paths: ${allowed.join(', ')}`);
  }
  return unique;
}

const truncate = (value: string): string => (value.length > 40 ? `${value.slice(0, 40)}…` : value);
