/**
 * The load generator, run as its own process (see run-load.ts) so that its
 * event loop never shares a core's time slice with what it measures in-process.
 * Node's own HTTP/2 client, one connection per target (calls spread over the
 * targets round robin), a fixed number of calls in flight, a warm-up then a
 * fixed window. Protocol over IPC: spec in, 'ready', 'go' in,
 * 'result' out.
 */
import { connect, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { percentile, sortedPrefix } from '../stats.js';
import { callHeaders } from './grpc-frame.js';
import { bodyMaker } from './requests.js';
import type { GeneratorMessage, LoadResult, LoadSpec } from './spec.js';

const send = (message: GeneratorMessage) => process.send!(message);

function open(address: string): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = connect(`http://${address}`);
    session.once('connect', () => resolve(session));
    session.once('error', reject);
  });
}

/** Latencies of successful calls in the window, in a growable typed array (no per-call allocation). */
class Samples {
  values = new Float64Array(1 << 16);
  count = 0;
  push(ms: number): void {
    if (this.count === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.count++] = ms;
  }
}

async function run(spec: LoadSpec, sessions: readonly ClientHttp2Session[], go: Promise<void>): Promise<LoadResult> {
  const headers = callHeaders(spec.path, spec.apiKey);
  const makeBody = bodyMaker(spec.request);
  const samples = new Samples();
  const errors: Record<string, number> = {};
  const okByTarget = new Array<number>(sessions.length).fill(0);
  let next = 0;
  await go;
  const windowStart = performance.now() + spec.warmupSeconds * 1000;
  const windowEnd = windowStart + spec.seconds * 1000;
  let cpuAtWindow: NodeJS.CpuUsage | undefined;
  setTimeout(() => (cpuAtWindow = process.cpuUsage()), spec.warmupSeconds * 1000).unref();

  const oneCall = (): Promise<void> =>
    new Promise((resolve) => {
      const i = next++;
      const target = i % sessions.length;
      const started = performance.now();
      const stream = sessions[target]!.request(headers);
      let status: string | undefined;
      const onHeaders = (h: IncomingHttpHeaders) => {
        const value = h['grpc-status'];
        if (value !== undefined) status = String(value);
      };
      stream.on('response', onHeaders); // trailers-only answers (errors) carry the status here
      stream.on('trailers', onHeaders);
      stream.on('data', () => undefined); // drain the response message
      stream.on('error', () => (status ??= 'transport'));
      stream.on('close', () => {
        const ended = performance.now();
        if (started >= windowStart && ended <= windowEnd) {
          if (status === '0') {
            samples.push(ended - started);
            okByTarget[target]!++;
          } else errors[status ?? 'transport'] = (errors[status ?? 'transport'] ?? 0) + 1;
        }
        resolve();
      });
      stream.end(makeBody(i));
    });

  await Promise.all(
    Array.from({ length: spec.concurrency }, async () => {
      while (performance.now() < windowEnd) await oneCall();
    }),
  );
  const cpu = process.cpuUsage(cpuAtWindow);
  const sorted = sortedPrefix(samples.values, samples.count);
  return {
    ok: samples.count,
    errors,
    okByTarget,
    elapsedSeconds: spec.seconds,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1]! : 0,
    generatorCpuPercent: ((cpu.user + cpu.system) / 1000 / (spec.seconds * 1000)) * 100,
  };
}

process.once('message', (spec: LoadSpec) => {
  let release!: () => void;
  const go = new Promise<void>((resolve) => (release = resolve));
  process.once('message', () => release());
  Promise.all(spec.addresses.map(open))
    .then(async (sessions) => {
      send({ type: 'ready' });
      const result = await run(spec, sessions, go);
      for (const session of sessions) session.close();
      send({ type: 'result', result });
    })
    .catch((error: unknown) => send({ type: 'failed', message: (error as Error).message }))
    .finally(() => process.disconnect());
});
