import type { BenchConfig } from '../config.js';
import { runLoad, type LoadHooks } from '../load/run-load.js';
import type { LoadResult, RequestShape } from '../load/spec.js';
import { describeErrors, errorCount, type CaseResult } from '../result.js';
import { cpuPerCall, cpuSnapshot, type CpuSnapshot } from '../cpu.js';
import { sampleRss } from '../rss.js';
import { delay } from '#test/support/free-port.js';

export interface GrpcCase {
  id: string;
  label: string;
  kind: CaseResult['kind'];
  /** host:port, or several: the generator spreads the calls over them round robin. */
  address: string | readonly string[];
  path: string;
  apiKey?: string;
  request: RequestShape;
  /** Processes whose RSS is reported, by name. */
  pids: Record<string, number | undefined>;
  /** Databases whose PostgreSQL backends' CPU is counted (by name). */
  databases?: readonly string[];
  /** Calls in flight; the config's concurrency unless given (1 = sequential calls). */
  concurrency?: number;
}

/**
 * One gRPC load case through the generator, with the RSS of the processes
 * under test sampled meanwhile and their CPU (and their databases' backends')
 * counted over the measured window.
 */
export async function grpcCase(
  config: BenchConfig,
  spec: GrpcCase,
  hooks: LoadHooks = {},
): Promise<{ result: CaseResult; load: LoadResult }> {
  const rss = sampleRss(spec.pids);
  let windowStart: Promise<CpuSnapshot> | undefined;
  const beforeGo = async () => {
    await hooks.beforeGo?.();
    windowStart = delay(config.warmupSeconds * 1000).then(() => cpuSnapshot(spec.pids, spec.databases ?? []));
  };
  const load = await runLoad(
    {
      addresses: typeof spec.address === 'string' ? [spec.address] : [...spec.address],
      path: spec.path,
      apiKey: spec.apiKey,
      request: spec.request,
      concurrency: spec.concurrency ?? config.concurrency,
      warmupSeconds: config.warmupSeconds,
      seconds: config.seconds,
    },
    { beforeGo },
  ).finally(() => rss.stop());
  const windowEnd = cpuSnapshot(spec.pids, spec.databases ?? []);
  const cpuMsPerCall = cpuPerCall(await windowStart!, windowEnd, load.ok);
  if (load.generatorCpuPercent !== undefined && load.ok > 0)
    cpuMsPerCall.generator = (load.generatorCpuPercent * 10 * load.elapsedSeconds) / load.ok;
  const result: CaseResult = {
    id: spec.id,
    label: spec.label,
    kind: spec.kind,
    rps: load.ok / load.elapsedSeconds,
    p50: load.p50,
    p99: load.p99,
    errors: errorCount(load.errors),
    rssMb: rss.stop(),
    cpuMsPerCall,
    extra: {
      generatorCpuPercent: load.generatorCpuPercent,
      concurrency: spec.concurrency ?? config.concurrency,
      // With several targets: how the successful calls were spread (okTarget1, okTarget2, …).
      ...(load.okByTarget.length > 1 ? Object.fromEntries(load.okByTarget.map((ok, i) => [`okTarget${i + 1}`, ok])) : {}),
    },
    note: describeErrors(load.errors),
  };
  return { result, load };
}
