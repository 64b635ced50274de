import { register } from 'node:module';
import type { TracingConfig } from './tracing-config.js';

export interface Tracing {
  readonly enabled: boolean;
  /** Exports the spans still buffered (bounded in time), then stops the SDK. */
  shutdown(): Promise<void>;
}

/** A shutdown that cannot reach its collector must not hold up the process's exit. */
const SHUTDOWN_TIMEOUT_MS = 5_000;

/**
 * Starts the OpenTelemetry SDK with the gRPC and PostgreSQL instrumentations,
 * before the service's own modules are loaded (runServiceMain calls this first;
 * each main.ts imports its app inside `start`, never at the top).
 *
 * Why the loader hook: the services are ES modules, and an `import` of
 * @grpc/grpc-js does not go through require(), so require-in-the-middle never
 * sees it (tried: under tsx and under compiled node alike, grpc-js stayed
 * unpatched, while pg, which knex require()s, was patched). The
 * import-in-the-middle hook, registered here before the first import of
 * grpc-js, is what lets the instrumentation patch it; `include` keeps the hook
 * off every other module. This works the same under `tsx main.ts` and
 * `node dist/…/main.js`, with no --import flag on any command line.
 *
 * Off (the default), nothing here runs: the SDK is not imported, no hook is
 * registered, nothing is patched.
 */
export async function startTracing(config: TracingConfig): Promise<Tracing> {
  if (!config.enabled) return { enabled: false, shutdown: async () => {} };
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, { data: { include: ['@grpc/grpc-js', 'pg'] } });
  const [{ NodeSDK }, { GrpcInstrumentation }, { PgInstrumentation }] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/instrumentation-grpc'),
    import('@opentelemetry/instrumentation-pg'),
  ]);
  const sdk = new NodeSDK({
    serviceName: config.serviceName,
    instrumentations: [
      // Health probes (every few seconds, from orchestrators and tests) would be most of the traces.
      new GrpcInstrumentation({ ignoreGrpcMethods: ['Check', 'Watch'] }),
      // Only statements of a traced request or message: the relay's and worker's
      // idle polls would otherwise each be a trace of their own, several a second.
      new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true }),
    ],
    // Traces only: metrics stay Prometheus (/metrics), logs stay pino on stdout.
    metricReaders: [],
    logRecordProcessors: [],
  });
  // The exporter, its protocol and endpoint, and the batch processor come from
  // the OTEL_* variables, read by the SDK itself.
  sdk.start();
  return {
    enabled: true,
    async shutdown() {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        sdk.shutdown().catch(() => undefined),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, SHUTDOWN_TIMEOUT_MS))),
      ]);
      clearTimeout(timer);
    },
  };
}
