/**
 * gRPC over HTTP/2 by hand, for the load generator: a message is a 5-byte
 * prefix (compressed flag 0, big-endian length) and the protobuf bytes.
 * Framing by hand is what keeps the generator far cheaper than a grpc-js client.
 */
export function frame(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + message.length);
  out.writeUInt8(0, 0);
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

/** Request headers of a unary call; the same object is reused for every call. */
export function callHeaders(path: string, apiKey: string | undefined): Record<string, string> {
  return {
    ':method': 'POST',
    ':path': path,
    'content-type': 'application/grpc',
    te: 'trailers',
    ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
  };
}
