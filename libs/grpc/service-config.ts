import type { ChannelOptions } from '@grpc/grpc-js';

/** grpc-js retry backoff (A6): the n-th retry waits random(0, min(initial·multiplierⁿ⁻¹, max)). */
export interface UnavailableRetry {
  /** All attempts, the first included; grpc-js caps it at 5. */
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  backoffMultiplier: number;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(3)}s`;

/** `/pkg.Service/Method` → the service config's `{ service, method }` name. */
function methodName(method: { path: string }): { service: string; method: string } {
  const [, service, name] = method.path.split('/');
  return { service: service!, method: name! };
}

/**
 * Channel options for a client of several servers: `round_robin` over every
 * address the target resolves to (grpc-js's default, pick_first, would send
 * everything to one), and transparent retries of UNAVAILABLE for `retried`
 * methods only — a retry repeats a call whose effect may already have
 * happened, so the caller lists only those that are safe to repeat. The call's
 * deadline still bounds all its attempts together. The service config is ours
 * alone: DNS TXT records may not replace it.
 */
export function roundRobinChannelOptions(
  /** Method definitions (ts-proto's, e.g. `FooServiceService.getBar`): only their `path` is read. */
  retried: readonly { path: string }[],
  retry: UnavailableRetry,
): ChannelOptions {
  const serviceConfig = {
    loadBalancingConfig: [{ round_robin: {} }],
    methodConfig: [
      {
        name: retried.map(methodName),
        retryPolicy: {
          maxAttempts: retry.maxAttempts,
          initialBackoff: seconds(retry.initialBackoffMs),
          maxBackoff: seconds(retry.maxBackoffMs),
          backoffMultiplier: retry.backoffMultiplier,
          retryableStatusCodes: ['UNAVAILABLE'],
        },
      },
    ],
  };
  return {
    'grpc.service_config': JSON.stringify(serviceConfig),
    'grpc.service_config_disable_resolution': 1,
    'grpc.enable_retries': 1,
  };
}
