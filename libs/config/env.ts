/** A configuration problem, always naming the environment variable at fault. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    why: string,
  ) {
    super(`${variable}: ${why}`);
    this.name = 'ConfigError';
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

/** Typed readers over an environment; each throws a ConfigError naming the variable. */
export function envReader(env: Env) {
  const raw = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === '' ? undefined : value;
  };
  return {
    raw,
    string(name: string, fallback?: string): string {
      const value = raw(name) ?? fallback;
      if (value === undefined) throw new ConfigError(name, 'is required');
      return value;
    },
    int(name: string, fallback: number, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}): number {
      const value = raw(name);
      if (value === undefined) return fallback;
      if (!/^-?\d+$/.test(value)) throw new ConfigError(name, `must be an integer, got "${value}"`);
      const parsed = Number(value);
      if (parsed < min || parsed > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${parsed}`);
      return parsed;
    },
    number(name: string, fallback: number, { min = 0, max = Number.MAX_VALUE } = {}): number {
      const value = raw(name);
      if (value === undefined) return fallback;
      const parsed = Number(value);
      if (!Number.isFinite(parsed)) throw new ConfigError(name, `must be a number, got "${value}"`);
      if (parsed < min || parsed > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${parsed}`);
      return parsed;
    },
    url(name: string, protocols: readonly string[], fallback?: string): string {
      const value = raw(name) ?? fallback;
      if (value === undefined) throw new ConfigError(name, 'is required');
      return checkUrl(name, protocols, value);
    },
    /** A comma-separated list of URLs (e.g. every server of a cluster), each checked like url(). */
    urlList(name: string, protocols: readonly string[], fallback?: string): string[] {
      const value = raw(name) ?? fallback;
      if (value === undefined) throw new ConfigError(name, 'is required');
      const entries = value.split(',').map((entry) => entry.trim());
      if (entries.some((entry) => entry === '')) throw new ConfigError(name, `has an empty entry in "${value}"`);
      return entries.map((entry, i) => checkUrl(name, protocols, entry, entries.length > 1 ? `entry ${i + 1} ` : ''));
    },
    oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
      const value = raw(name) ?? fallback;
      if (!allowed.includes(value as T)) throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${value}"`);
      return value as T;
    },
    bool(name: string, fallback: boolean): boolean {
      const value = raw(name);
      if (value === undefined) return fallback;
      if (['true', '1', 'yes'].includes(value.toLowerCase())) return true;
      if (['false', '0', 'no'].includes(value.toLowerCase())) return false;
      throw new ConfigError(name, `must be true or false, got "${value}"`);
    },
  };
}

/** `which` names the entry of a list ("entry 2 "), so the operator finds the bad one. */
function checkUrl(name: string, protocols: readonly string[], value: string, which = ''): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigError(name, `${which}must be a URL like ${protocols[0]}//host:port, got "${value}"`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `${which}must use ${protocols.join(' or ')}, got "${parsed.protocol}"`);
  }
  return value;
}

export type EnvReader = ReturnType<typeof envReader>;
