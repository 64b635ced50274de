import { envReader, type Env } from '#libs/config/env.js';
import type { ApiKey } from '#libs/grpc/auth.js';
import { readInventoryConfig } from '../../services/inventory/operator.js';
import { readOrderConfig } from '../../services/order/operator.js';

/**
 * What `npm start` takes from its environment. It runs both services from one
 * environment, so a variable that means "this service's X" would reach both
 * (METRICS_PORT: two servers on one port) or be overwritten by npm start
 * (DATABASE_URL, GRPC_PORT, INVENTORY_ADDR). Those are refused, naming the
 * per-service variables to use instead; every other variable reaches both
 * services unchanged, and each reads the ones it knows.
 */
export const REFUSED: Readonly<Record<string, string>> = {
  DATABASE_URL: 'set INVENTORY_DATABASE_URL and/or ORDER_DATABASE_URL instead',
  GRPC_PORT: 'set INVENTORY_GRPC_PORT and/or ORDER_GRPC_PORT instead',
  METRICS_PORT: 'set INVENTORY_METRICS_PORT and/or ORDER_METRICS_PORT instead',
  INVENTORY_ADDR: 'npm start points the order service at its own inventory; set INVENTORY_GRPC_PORT to move it',
  // npm start waits for SERVING, and the order service calls inventory, over plaintext.
  TLS_CERT_FILE: 'npm start runs the services in plaintext; to serve TLS run them with npm run start:inventory / start:order',
  TLS_KEY_FILE: 'npm start runs the services in plaintext; to serve TLS run them with npm run start:inventory / start:order',
  TLS_CA_FILE: 'npm start runs the services in plaintext; to serve TLS run them with npm run start:inventory / start:order',
};

/** GRPC_HOST values at which npm start can reach the services on 127.0.0.1. */
const REACHABLE_HOSTS = ['0.0.0.0', '::', '[::]', '127.0.0.1'];

export interface StartService {
  name: 'inventory' | 'order';
  /**
   * What node runs, relative to the repository root: services/<name>/main.ts
   * through tsx, or with NODE_ENV=production the compiled
   * dist/services/<name>/main.js (npm run build) on plain node.
   */
  entry: string;
  /** node's flags before the entry: ['--import', 'tsx'] for the TypeScript sources, none for dist/. */
  nodeArgs: string[];
  /** True when `entry` is in dist/, which npm run build makes. */
  compiled: boolean;
  grpcPort: number;
  metricsPort: number;
  /** The variables the ports came from, for messages. */
  portVariables: { grpc: string; metrics: string };
  /** The service's development keys (in use unless API_KEYS is set), from its own config. */
  developmentKeys: ApiKey[];
}

/** The refusals, one line each naming its variable; empty when npm start can run. */
export class StartSettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'StartSettingsError';
  }
}

/**
 * Reads the ports of both services (INVENTORY_GRPC_PORT, INVENTORY_METRICS_PORT,
 * ORDER_GRPC_PORT, ORDER_METRICS_PORT; defaults are the services' own) and what
 * to run (NODE_ENV=production: dist/, compiled; otherwise the sources through
 * tsx), and refuses what cannot work: a refused variable, an unreachable
 * GRPC_HOST, a bad port or NODE_ENV, or two servers on one port. Throws a
 * StartSettingsError listing every problem.
 */
export function readStartSettings(env: Env): StartService[] {
  const read = envReader(env);
  const problems: string[] = [];
  for (const [variable, instead] of Object.entries(REFUSED)) {
    if (read.raw(variable) !== undefined) problems.push(`${variable} cannot be used with npm start, which runs two services: ${instead}.`);
  }
  const host = read.raw('GRPC_HOST');
  if (host !== undefined && !REACHABLE_HOSTS.includes(host)) {
    problems.push(
      `GRPC_HOST must be one of ${REACHABLE_HOSTS.join(', ')} for npm start, which reaches the services on 127.0.0.1; got "${host}".`,
    );
  }
  // NODE_ENV as the services read it: production runs what npm run build compiled, as the images do.
  let compiled = false;
  try {
    compiled = read.oneOf('NODE_ENV', ['development', 'production', 'test'], 'development') === 'production';
  } catch (error) {
    problems.push(`${(error as Error).message}.`);
  }
  // The services' own defaults (ports, development keys), read from an empty environment: no second copy here.
  const defaults = { inventory: readInventoryConfig({}), order: readOrderConfig({}) };
  const port = (variable: string, fallback: number): { variable: string; value: number } => {
    try {
      return { variable, value: read.int(variable, fallback, { min: 1, max: 65535 }) };
    } catch (error) {
      problems.push(`${(error as Error).message}.`);
      return { variable, value: fallback };
    }
  };
  const services = (['inventory', 'order'] as const).map((name) => {
    const prefix = name.toUpperCase();
    return {
      name,
      entry: compiled ? `dist/services/${name}/main.js` : `services/${name}/main.ts`,
      grpc: port(`${prefix}_GRPC_PORT`, defaults[name].grpcPort),
      metrics: port(`${prefix}_METRICS_PORT`, defaults[name].metricsPort),
    };
  });
  const ports = services.flatMap((s) => [s.grpc, s.metrics]);
  ports.forEach((a, i) => {
    const clash = ports.slice(i + 1).find((b) => b.value === a.value);
    if (clash) {
      const name = (p: typeof a) => (read.raw(p.variable) === undefined ? `${p.variable} (default ${p.value})` : p.variable);
      problems.push(`${name(a)} and ${name(clash)} are both ${a.value}: every server needs its own port.`);
    }
  });
  if (problems.length > 0) throw new StartSettingsError(problems);
  return services.map(({ name, entry, grpc, metrics }) => ({
    name,
    entry,
    nodeArgs: compiled ? [] : ['--import', 'tsx'],
    compiled,
    grpcPort: grpc.value,
    metricsPort: metrics.value,
    portVariables: { grpc: grpc.variable, metrics: metrics.variable },
    developmentKeys: defaults[name].apiKeys,
  }));
}
