/** What the parent asks of the load generator, and what it answers (plain JSON over IPC). */

/** How each call's request body is made: fixed bytes, or a fresh message per call. */
export type RequestShape =
  | { kind: 'fixed'; base64: string }
  /** ReserveStock of one unit of one of `productIds` (round robin), a fresh order id per call. */
  | { kind: 'reserveStock'; productIds: string[] }
  /**
   * The same, routed: each call names destination number i mod n (postal code and
   * coordinates), so routing ranks the locations that deliver there, nearest first.
   */
  | { kind: 'reserveStockRouted'; productIds: string[]; destinations: { postalCode: string; latitude: number; longitude: number }[] }
  /** CreateOrder of one unit of one of `productIds`, fresh customer and idempotency key, token tok_ok. */
  | { kind: 'createOrder'; productIds: string[] }
  /** GetProduct of one of `productIds` (round robin). */
  | { kind: 'getProduct'; productIds: string[] };

export interface LoadSpec {
  /**
   * host:port of each target, plaintext HTTP/2: one connection to each, and the
   * calls spread over them round robin (call i goes to target i mod n), as a
   * client-side round_robin balancer does.
   */
  addresses: string[];
  /** gRPC method path, e.g. /larder.inventory.v1.InventoryService/ReserveStock. */
  path: string;
  apiKey?: string;
  request: RequestShape;
  concurrency: number;
  warmupSeconds: number;
  seconds: number;
}

export interface LoadResult {
  /** Calls that completed with grpc-status 0 inside the window. */
  ok: number;
  /** Failed calls inside the window, by grpc-status (or "transport"). */
  errors: Record<string, number>;
  /** The window actually measured, in seconds. */
  elapsedSeconds: number;
  /** Successful calls in the window by target, in the order of `addresses`. */
  okByTarget: number[];
  /** Latency of the successful calls, in milliseconds. */
  p50: number;
  p99: number;
  max: number;
  /** CPU the generator itself used over the window, in % of one core. */
  generatorCpuPercent: number;
}

/** Messages from the generator process. */
export type GeneratorMessage = { type: 'ready' } | { type: 'result'; result: LoadResult } | { type: 'failed'; message: string };
