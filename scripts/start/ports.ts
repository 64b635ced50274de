import { createServer } from 'node:net';
import type { StartService } from './settings.js';

/** True when nothing holds `port` on `host` right now (a listener, or a connection's local end). */
function isFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * The ports of `services` that are taken, one line each naming the variable to
 * change: checked before anything starts, so a second `npm start` (or any other
 * holder) is named instead of surfacing as a service's EADDRINUSE stack.
 * A port can still be taken between this check and the bind; the service then says so.
 */
export async function takenPorts(services: StartService[], host: string): Promise<string[]> {
  const problems: string[] = [];
  for (const service of services) {
    for (const [what, port, variable] of [
      ['gRPC', service.grpcPort, service.portVariables.grpc],
      ['metrics', service.metricsPort, service.portVariables.metrics],
    ] as const) {
      if (!(await isFree(port, host))) {
        problems.push(
          `Port ${port} (${service.name} ${what}) is in use, perhaps by another npm start: stop it, or set ${variable} to a free port.`,
        );
      }
    }
  }
  return problems;
}
