import type { BenchConfig } from '../config.js';
import { runLoad, type LoadHooks } from '../load/run-load.js';
import type { LoadResult, RequestShape } from '../load/spec.js';
import { describeErrors, errorCount, type CaseResult } from '../result.js';
import { sampleRss } from '../rss.js';

export interface GrpcCase {
  id: string;
  label: string;
  kind: CaseResult['kind'];
  address: string;
  path: string;
  apiKey?: string;
  request: RequestShape;
  /** Processes whose RSS is reported, by name. */
  pids: Record<string, number | undefined>;
  /** Calls in flight; the config's concurrency unless given (1 = sequential calls). */
  concurrency?: number;
}

/** One gRPC load case through the generator, with the RSS of the processes under test sampled meanwhile. */
export async function grpcCase(
  config: BenchConfig,
  spec: GrpcCase,
  hooks: LoadHooks = {},
): Promise<{ result: CaseResult; load: LoadResult }> {
  const rss = sampleRss(spec.pids);
  const load = await runLoad(
    {
      address: spec.address,
      path: spec.path,
      apiKey: spec.apiKey,
      request: spec.request,
      concurrency: spec.concurrency ?? config.concurrency,
      warmupSeconds: config.warmupSeconds,
      seconds: config.seconds,
    },
    hooks,
  ).finally(() => rss.stop());
  const result: CaseResult = {
    id: spec.id,
    label: spec.label,
    kind: spec.kind,
    rps: load.ok / load.elapsedSeconds,
    p50: load.p50,
    p99: load.p99,
    errors: errorCount(load.errors),
    rssMb: rss.stop(),
    extra: { generatorCpuPercent: load.generatorCpuPercent, concurrency: spec.concurrency ?? config.concurrency },
    note: describeErrors(load.errors),
  };
  return { result, load };
}
