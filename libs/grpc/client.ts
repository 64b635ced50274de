import {
  Client,
  credentials as grpcCredentials,
  Metadata,
  type CallOptions,
  type ChannelCredentials,
  type ChannelOptions,
  type MethodDefinition,
  type ServiceDefinition,
  type ServiceError,
} from '@grpc/grpc-js';

/** ts-proto's DeepPartial, re-declared so callers need not import one module's copy. */
type Builtin = Date | Uint8Array | string | number | boolean | undefined;
export type DeepPartial<T> = T extends Builtin
  ? T
  : T extends Array<infer U>
    ? Array<DeepPartial<U>>
    : T extends object
      ? { [K in keyof T]?: DeepPartial<T[K]> }
      : Partial<T>;

export interface UnaryCallOptions {
  /** API key sent as `authorization: Bearer <key>`. */
  apiKey?: string;
  /** Sent as x-request-id, so the callee logs and stores the same correlation id. */
  correlationId?: string;
  /** Milliseconds until the call fails with DEADLINE_EXCEEDED. */
  timeoutMs?: number;
  metadata?: Metadata;
}

type UnaryMethod<M> =
  M extends MethodDefinition<infer Req, infer Res> ? (request: DeepPartial<Req>, options?: UnaryCallOptions) => Promise<Res> : never;

/** A promise-returning client of every unary RPC of a ts-proto service definition. */
export type PromiseClient<D> = { [K in keyof D]: UnaryMethod<D[K]> } & { close(): void };

interface Codec {
  fromPartial(object: unknown): unknown;
}

/**
 * Builds a client from a ts-proto service definition and the generated module
 * holding its messages (looked up by our `<Method>Request` naming), so callers
 * can pass partial requests and get typed responses.
 */
export function createPromiseClient<D extends ServiceDefinition>(
  definition: D,
  messages: Record<string, unknown>,
  address: string,
  options: { credentials?: ChannelCredentials; defaults?: UnaryCallOptions; channelOptions?: ChannelOptions } = {},
): PromiseClient<D> {
  const client = new Client(address, options.credentials ?? grpcCredentials.createInsecure(), options.channelOptions);
  const result: Record<string, unknown> = { close: () => client.close() };
  for (const [name, method] of Object.entries(definition) as [string, MethodDefinition<unknown, unknown>][]) {
    const codec = messages[`${name[0]!.toUpperCase()}${name.slice(1)}Request`] as Codec | undefined;
    result[name] = (request: unknown, callOptions: UnaryCallOptions = {}) => {
      const merged = { ...options.defaults, ...callOptions };
      const metadata = merged.metadata?.clone() ?? new Metadata();
      if (merged.apiKey) metadata.set('authorization', `Bearer ${merged.apiKey}`);
      if (merged.correlationId) metadata.set('x-request-id', merged.correlationId);
      const grpcOptions: CallOptions = merged.timeoutMs ? { deadline: Date.now() + merged.timeoutMs } : {};
      return new Promise((resolve, reject) => {
        client.makeUnaryRequest(
          method.path,
          method.requestSerialize,
          method.responseDeserialize,
          codec ? codec.fromPartial(request) : request,
          metadata,
          grpcOptions,
          (error: ServiceError | null, response?: unknown) => (error ? reject(error) : resolve(response)),
        );
      });
    };
  }
  return result as PromiseClient<D>;
}
