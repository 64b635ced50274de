import { credentials, Metadata } from '@grpc/grpc-js';
import { HealthCheckResponse_ServingStatus as Serving, HealthClient } from '#libs/contracts/grpc/health/v1/health.js';

/**
 * Polls grpc.health.v1 Check (whole server, service "") on a plaintext address
 * until it answers SERVING; false when `timeoutMs` passes first. Used by
 * `npm start` and by tests that run services as processes.
 */
export async function waitUntilServing(address: string, timeoutMs: number, pollMs = 100): Promise<boolean> {
  const client = new HealthClient(address, credentials.createInsecure());
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      const status = await new Promise<Serving | undefined>((resolve) =>
        client.check({ service: '' }, new Metadata(), { deadline: Date.now() + 500 }, (error, response) =>
          resolve(error ? undefined : response.status),
        ),
      );
      if (status === Serving.SERVING) return true;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
    return false;
  } finally {
    client.close();
  }
}
