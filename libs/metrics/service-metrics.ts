import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** A gauge whose value is read when Prometheus scrapes (backlog, pool use…). */
export type GaugeSource = () => Promise<number | Record<string, number>> | number | Record<string, number>;

/**
 * One Prometheus registry per service process, with the RPC metrics every
 * Larder service has; services add their own counters and scrape-time gauges.
 */
export class ServiceMetrics {
  readonly registry = new Registry();
  private readonly rpcTotal: Counter<'method' | 'code'>;
  private readonly rpcDuration: Histogram<'method'>;

  constructor(service: string) {
    this.registry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: this.registry });
    this.rpcTotal = this.counter('larder_rpc_total', 'Finished RPCs by method and status code.', ['method', 'code']);
    this.rpcDuration = new Histogram({
      name: 'larder_rpc_duration_seconds',
      help: 'RPC latency, from receipt to response.',
      labelNames: ['method'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry],
    });
  }

  observeRpc(method: string, code: string, durationMs: number): void {
    this.rpcTotal.inc({ method, code });
    this.rpcDuration.observe({ method }, durationMs / 1000);
  }

  counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return new Counter({ name, help, labelNames: [...labelNames], registers: [this.registry] });
  }

  /** A gauge read at scrape time; a record value sets one series per key of `label`. */
  gauge(name: string, help: string, source: GaugeSource, label?: string): void {
    new Gauge({
      name,
      help,
      labelNames: label ? [label] : [],
      registers: [this.registry],
      async collect() {
        const value = await source();
        if (typeof value === 'number') this.set(value);
        else for (const [key, v] of Object.entries(value)) this.set({ [label!]: key }, v);
      },
    });
  }

  /**
   * A counter whose total is kept elsewhere (a consumer's stats) and read at
   * scrape time; `label` keys a record value's series. The source must only
   * grow per key, as a counter does: each scrape adds what it grew by since
   * the last, so rate() and increase() read it as Prometheus expects.
   */
  counterFrom(name: string, help: string, source: () => Record<string, number>, label: string): void {
    const exported = new Map<string, number>();
    new Counter({
      name,
      help,
      labelNames: [label],
      registers: [this.registry],
      collect() {
        for (const [key, total] of Object.entries(source())) {
          const before = exported.get(key) ?? 0;
          // inc by 0 still creates the series, so a consumer shows up at 0 before its first event.
          this.inc({ [label]: key }, Math.max(total - before, 0));
          exported.set(key, Math.max(total, before));
        }
      },
    });
  }

  /** Serves /metrics on host:port (0 = any free port); resolves to the bound port. */
  async serve(host: string, port: number): Promise<{ port: number; server: Server }> {
    const server = createServer((request, response) => {
      if (request.url !== '/metrics') {
        response.writeHead(404).end('see /metrics\n');
        return;
      }
      this.registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        (error: Error) => response.writeHead(500).end(`${error.message}\n`),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const address = server.address();
    return { port: typeof address === 'object' && address ? address.port : port, server };
  }
}
