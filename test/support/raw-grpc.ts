import { Client, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import type {
  ServerReflectionClient,
  ServerReflectionRequest,
  ServerReflectionResponse,
} from '#libs/contracts/grpc/reflection/v1/reflection.js';

/**
 * gRPC calls below the generated clients, for tests that need what those will
 * not send: raw request bytes, or the reflection stream.
 */

/** `authorization: Bearer <key>` metadata (none when `key` is empty). */
export const bearer = (key: string): Metadata => {
  const metadata = new Metadata();
  if (key) metadata.set('authorization', `Bearer ${key}`);
  return metadata;
};

/** Sends raw bytes as the request of method `path` (`/package.Service/Method`); resolves with the error (null on success). */
export function rawUnaryCall(address: string, path: string, bytes: Buffer, key: string): Promise<ServiceError | null> {
  const client = new Client(address, credentials.createInsecure());
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      path,
      (b: Buffer) => b,
      (b: Buffer) => b,
      bytes,
      bearer(key),
      (error: ServiceError | null) => {
        client.close();
        resolve(error);
      },
    );
  });
}

/** Sends one request on a reflection stream and returns the first answer. */
export function reflect(client: ServerReflectionClient, request: Partial<ServerReflectionRequest>): Promise<ServerReflectionResponse> {
  return new Promise((resolve, reject) => {
    const stream = client.serverReflectionInfo();
    stream.once('data', (response: ServerReflectionResponse) => {
      stream.end();
      resolve(response);
    });
    stream.once('error', reject);
    stream.write({ host: '', ...request });
  });
}
