import { Server, ServerCredentials, type handleUnaryCall, type UntypedServiceImplementation } from '@grpc/grpc-js';

/** The one method both baseline servers serve; bodies stay raw bytes (no decoding cost unless the handler wants it). */
export const BENCH_METHOD_PATH = '/bench.Baseline/Call';

const identity = (bytes: Buffer) => bytes;

/**
 * Starts a plain grpc-js server (the same library Larder uses, no interceptors,
 * no auth) on a free loopback port, and tells the parent which one on stdout.
 */
export async function serveBaseline(handler: handleUnaryCall<Buffer, Buffer>): Promise<Server> {
  const server = new Server();
  server.addService(
    {
      call: {
        path: BENCH_METHOD_PATH,
        requestStream: false,
        responseStream: false,
        requestSerialize: identity,
        requestDeserialize: identity,
        responseSerialize: identity,
        responseDeserialize: identity,
      },
    },
    { call: handler } as UntypedServiceImplementation,
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  process.stdout.write(`listening ${port}\n`);
  process.once('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
  return server;
}
