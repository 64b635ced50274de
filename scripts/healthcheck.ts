/**
 * Container health check (the image's HEALTHCHECK, compiled by npm run build:
 * `node dist/scripts/healthcheck.js`; `node --import tsx scripts/healthcheck.ts`
 * from the sources): asks the standard gRPC
 * health service of the service running in this container for the whole
 * server (service "") and exits 0 only when it answers SERVING; anything else
 * (NOT_SERVING while the database is down or during shutdown, no answer
 * within 2 s, nothing listening) exits 1. Prints the status or the error.
 *
 * Address: 127.0.0.1:$GRPC_PORT (default 50051), or GRPC_HOST when it names a
 * specific address rather than a wildcard. Health needs no API key.
 * Plaintext only: with TLS_CERT_FILE set the service speaks TLS and this check
 * cannot connect (it says so); give such containers their own check.
 */
import { credentials, Metadata } from '@grpc/grpc-js';
import {
  HealthCheckResponse_ServingStatus as Serving,
  healthCheckResponse_ServingStatusToJSON as statusName,
  HealthClient,
} from '#libs/contracts/grpc/health/v1/health.js';

const DEADLINE_MS = 2_000;

function target(env: NodeJS.ProcessEnv): string {
  const portText = env.GRPC_PORT?.trim() || '50051';
  const port = /^\d+$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 1 && port <= 65535)) {
    console.error(`healthcheck: GRPC_PORT must be a port between 1 and 65535, got "${portText}"`);
    process.exit(1);
  }
  const host = env.GRPC_HOST?.trim();
  const wildcard = !host || ['0.0.0.0', '::', '[::]'].includes(host);
  const address = wildcard ? '127.0.0.1' : host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `${address}:${port}`;
}

const address = target(process.env);
const client = new HealthClient(address, credentials.createInsecure());
client.check({ service: '' }, new Metadata(), { deadline: Date.now() + DEADLINE_MS }, (error, response) => {
  client.close();
  if (error) {
    const tls = process.env.TLS_CERT_FILE?.trim() ? ' (TLS_CERT_FILE is set: this check speaks plaintext only)' : '';
    console.error(`healthcheck: ${address}: no answer: ${error.message}${tls}`);
    process.exit(1);
  }
  console.log(`healthcheck: ${address}: ${statusName(response.status)}`);
  process.exit(response.status === Serving.SERVING ? 0 : 1);
});
