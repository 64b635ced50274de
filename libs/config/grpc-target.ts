import { isIP } from 'node:net';
import { ConfigError } from './env.js';

/**
 * A gRPC client target from the environment, in one of three forms:
 *
 * - `host:port` — one server (a name is resolved by DNS, every address it has);
 * - `ip:port,ip:port,…` — several servers, IP literals of one family
 *   (`[v6]:port` for IPv6), mapped onto grpc-js's `ipv4:` / `ipv6:` resolver;
 * - `dns:///host:port` — every address a DNS name resolves to (a headless service).
 *
 * A list takes IP addresses only: grpc-js has no resolver for a list of names,
 * and resolving them once at start would freeze addresses DNS later moves. For
 * names, give one name that resolves to every replica and use `dns:///`.
 * Anything else (empty entries, a bad port, another scheme, forms mixed) is
 * refused here, at start, instead of leaving every call UNAVAILABLE.
 */
export function parseGrpcTarget(variable: string, value: string): string {
  const refuse = (why: string): never => {
    throw new ConfigError(variable, `${why} (got "${value}"; ${FORMS})`);
  };
  if (value.startsWith('dns:')) {
    if (!value.startsWith('dns:///')) refuse('a DNS target is dns:///host:port (no DNS server authority)');
    const rest = value.slice('dns:///'.length);
    if (rest.includes(',')) refuse('a dns:/// target names one host; a list takes IP addresses without a scheme');
    const entry = parseEntry(rest, refuse);
    return `dns:///${entry.text}`;
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value) ?? OTHER_GRPC_SCHEMES.exec(value);
  if (scheme) refuse(`scheme "${scheme[1]}:" is not supported`);
  const parts = value.split(',').map((part) => part.trim());
  const entries = parts.map((part, index) => {
    if (part === '') refuse(`entry ${index + 1} of the list is empty`);
    if (part.startsWith('dns:')) refuse('a list cannot mix dns:/// with host:port entries');
    return parseEntry(part, refuse);
  });
  if (entries.length === 1) return entries[0]!.text;
  const families = new Set(entries.map((entry) => entry.family));
  if (families.has(0)) refuse('a list takes IP addresses only; for a name use dns:///name:port');
  if (families.size > 1) refuse('a list cannot mix IPv4 and IPv6 addresses');
  const texts = entries.map((entry) => entry.text);
  const repeated = texts.find((text, index) => texts.indexOf(text) !== index);
  if (repeated) refuse(`${repeated} is listed twice`);
  return `${families.has(6) ? 'ipv6' : 'ipv4'}:${texts.join(',')}`;
}

/** grpc-js's own schemes that need no `//`: refused by name rather than read as a host called "ipv4". */
const OTHER_GRPC_SCHEMES = /^(ipv4|ipv6|unix|unix-abstract|vsock|xds):/i;

const FORMS = 'expected host:port, ip:port,ip:port,… or dns:///host:port';

/** RFC 1123 host names: dot-separated labels of letters, digits and inner hyphens. */
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** One `host:port` (or `[v6]:port`): its canonical text and IP family (0: a name). */
function parseEntry(text: string, refuse: (why: string) => never): { text: string; family: number } {
  const bracketed = /^\[([^\]]*)\]:(.*)$/.exec(text);
  const colon = text.lastIndexOf(':');
  if (!bracketed && colon < 0) refuse(`"${text}" has no port`);
  const host = bracketed ? bracketed[1]! : text.slice(0, colon);
  const port = bracketed ? bracketed[2]! : text.slice(colon + 1);
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) refuse(`"${text}": port must be 1–65535`);
  const family = isIP(host);
  if (bracketed && family !== 6) refuse(`"${text}": only an IPv6 address goes in brackets`);
  if (!bracketed && family === 6) refuse(`"${text}": write an IPv6 address in brackets, [addr]:port`);
  if (family === 0 && !HOST_NAME.test(host)) refuse(`"${text}": "${host}" is not a host name or IP address`);
  return { text: family === 6 ? `[${host}]:${Number(port)}` : `${host}:${Number(port)}`, family };
}
