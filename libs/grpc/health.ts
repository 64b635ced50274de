import { status as Code, type Server, type ServerWritableStream } from '@grpc/grpc-js';
import {
  HealthCheckResponse_ServingStatus as Serving,
  HealthService,
  type HealthServer,
  type HealthCheckRequest,
  type HealthCheckResponse,
} from '#libs/contracts/grpc/health/v1/health.js';

export { Serving };

/**
 * The standard grpc.health.v1 service. Statuses are set by the service's own
 * monitor (database reachable?) and by shutdown; "" is the whole server.
 * Needs no API key: load balancers and container health checks call it.
 */
export class HealthRegistry {
  private readonly statuses = new Map<string, Serving>();
  private readonly watchers = new Set<{ service: string; stream: ServerWritableStream<HealthCheckRequest, HealthCheckResponse> }>();

  constructor(services: readonly string[]) {
    for (const service of ['', ...services]) this.statuses.set(service, Serving.NOT_SERVING);
  }

  /** Sets every registered service (and the server) to one status. */
  setAll(status: Serving): void {
    for (const service of this.statuses.keys()) this.set(service, status);
  }

  set(service: string, status: Serving): void {
    if (this.statuses.get(service) === status) return;
    this.statuses.set(service, status);
    for (const watcher of this.watchers) {
      if (watcher.service === service) watcher.stream.write({ status });
    }
  }

  get(service = ''): Serving | undefined {
    return this.statuses.get(service);
  }

  /** Ends every Watch stream (at shutdown, so the server can close). */
  endWatches(): void {
    for (const watcher of this.watchers) watcher.stream.end();
    this.watchers.clear();
  }

  addToServer(server: Server): void {
    const implementation: HealthServer = {
      check: (call, callback) => {
        const status = this.statuses.get(call.request.service);
        if (status === undefined) {
          callback({ code: Code.NOT_FOUND, details: `unknown service "${call.request.service}"` });
          return;
        }
        callback(null, { status });
      },
      watch: (stream: ServerWritableStream<HealthCheckRequest, HealthCheckResponse>) => {
        const service = stream.request.service;
        const watcher = { service, stream };
        this.watchers.add(watcher);
        stream.write({ status: this.statuses.get(service) ?? Serving.SERVICE_UNKNOWN });
        stream.on('cancelled', () => this.watchers.delete(watcher));
      },
      list: (_call, callback) => {
        const statuses: Record<string, HealthCheckResponse> = {};
        for (const [service, status] of this.statuses) statuses[service] = { status };
        callback(null, { statuses });
      },
    };
    server.addService(HealthService, implementation);
  }
}
