/** Baseline 1: a grpc-js unary server that answers at once, the ceiling of one Node gRPC process here. */
import { serveBaseline } from './bench-server.js';

const EMPTY = Buffer.alloc(0);

await serveBaseline((_call, callback) => callback(null, EMPTY));
