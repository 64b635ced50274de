import {
  Server,
  ServerCredentials,
  status as Code,
  type MethodDefinition,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  type UntypedServiceImplementation,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { AppError } from '#libs/errors/app-error.js';
import type { Logger } from '#libs/logging/logger.js';
import { authorizeCall, type ApiKey, type TokenAuthenticator } from './auth.js';
import { correlationIdFrom, type CallContext } from './call-context.js';
import { HealthRegistry, Serving } from './health.js';
import { addReflection } from './reflection.js';
import { toServiceError } from './status.js';

export type UnaryHandler<Req, Res> = (request: Req, ctx: CallContext) => Promise<Res>;
export type StreamHandler<Req, Res> = (request: Req, ctx: CallContext, send: (message: Res) => void, signal: AbortSignal) => Promise<void>;

type HandlerOf<M> =
  M extends MethodDefinition<infer Req, infer Res>
    ? M['responseStream'] extends true
      ? StreamHandler<Req, Res>
      : UnaryHandler<Req, Res>
    : never;

/** A handler per RPC of a ts-proto service definition, typed from it. */
export type Handlers<D> = { [K in keyof D]: HandlerOf<D[K]> };
/** The API-key scope each RPC of a service requires. */
export type Scopes<D> = { [K in keyof D]: string };

/** Observes every finished RPC (metrics); `error` is what the handler threw, if anything. */
export type RpcObserver = (method: string, code: Code, durationMs: number, error?: unknown) => void;

export interface TlsOptions {
  cert: Buffer;
  key: Buffer;
  /** With a CA, clients must present a certificate it signed (mTLS). */
  ca?: Buffer;
}

export interface GrpcServerOptions {
  logger: Logger;
  apiKeys: readonly ApiKey[];
  /** End-user tokens besides the API keys (bearer values shaped like a JWT); none when absent. */
  tokens?: TokenAuthenticator;
  tls?: TlsOptions;
  observe?: RpcObserver;
}

/** Marks a request whose bytes did not decode, so the handler wrapper can answer INVALID_ARGUMENT. */
const UNDECODABLE = Symbol('undecodable');

/**
 * The server every Larder service runs: API-key (and end-user token) auth per method, one log line
 * per RPC, every error mapped in one place, health and reflection built in.
 */
export class GrpcServer {
  readonly server: Server;
  readonly health: HealthRegistry;

  constructor(
    private readonly options: GrpcServerOptions,
    serviceNames: readonly string[],
  ) {
    // Generous keepalive so long WatchOrder streams are not cut by idle proxies.
    this.server = new Server({ 'grpc.keepalive_time_ms': 60_000, 'grpc.max_receive_message_length': 4 * 1024 * 1024 });
    this.health = new HealthRegistry(serviceNames);
    this.health.addToServer(this.server);
    addReflection(this.server, ['grpc.health.v1.Health', ...serviceNames]);
  }

  addService<D extends ServiceDefinition>(definition: D, handlers: Handlers<D>, scopes: Scopes<D>): void {
    const implementation: UntypedServiceImplementation = {};
    const safeDefinition: Record<string, MethodDefinition<unknown, unknown>> = {};
    for (const name of Object.keys(definition) as (keyof D & string)[]) {
      const method = definition[name] as MethodDefinition<unknown, unknown>;
      safeDefinition[name] = {
        ...method,
        requestDeserialize: (bytes: Buffer) => {
          try {
            return method.requestDeserialize(bytes);
          } catch (error) {
            return { [UNDECODABLE]: error };
          }
        },
      };
      implementation[name] = method.responseStream
        ? this.wrapStream(method.path, scopes[name], handlers[name] as StreamHandler<unknown, unknown>)
        : this.wrapUnary(method.path, scopes[name], handlers[name] as UnaryHandler<unknown, unknown>);
    }
    this.server.addService(safeDefinition as ServiceDefinition, implementation);
  }

  private begin(path: string, scope: string, call: ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown>) {
    const correlationId = correlationIdFrom(call.metadata);
    const started = performance.now();
    // The call's logger is made when something logs: a child logger serialises its
    // bindings at once, and most calls log nothing at the usual levels.
    const bindings: Record<string, string> = { method: path, correlationId };
    let bound: Logger | undefined;
    const logger = () => (bound ??= this.options.logger.child(bindings));
    const deadline = call.getDeadline();
    const prepare = async (): Promise<CallContext> => {
      const authorization = call.metadata.get('authorization')[0];
      const header = typeof authorization === 'string' ? authorization : undefined;
      const { name: caller, subject } = await authorizeCall(this.options.apiKeys, this.options.tokens, header, scope);
      bindings.caller = caller;
      bound = undefined;
      if ((call.request as Record<symbol, unknown>)?.[UNDECODABLE] !== undefined) {
        throw new AppError('invalid', 'request is not a valid protobuf message', { reason: 'MALFORMED_REQUEST' });
      }
      return {
        correlationId,
        caller,
        subject,
        get logger() {
          return logger();
        },
        deadline: deadline instanceof Date ? deadline : Number.isFinite(deadline) ? new Date(deadline) : undefined,
      };
    };
    const finish = (code: Code, error?: unknown) => {
      const durationMs = Math.round((performance.now() - started) * 100) / 100;
      if (this.options.logger.isLevelEnabled('info')) {
        const line = { code: Code[code], durationMs };
        if (code === Code.OK) logger().info(line, 'rpc');
        else logger().info({ ...line, error: error instanceof Error ? error.message : String(error) }, 'rpc');
      }
      this.options.observe?.(path, code, durationMs, error);
    };
    return { prepare, finish, logger };
  }

  private wrapUnary(path: string, scope: string, handler: UnaryHandler<unknown, unknown>) {
    return (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
      const rpc = this.begin(path, scope, call);
      Promise.resolve()
        .then(rpc.prepare)
        .then((ctx) => handler(call.request, ctx))
        .then(
          (response) => {
            callback(null, response);
            rpc.finish(Code.OK);
          },
          (error: unknown) => {
            const serviceError = toServiceError(error, rpc.logger());
            callback(serviceError);
            rpc.finish(serviceError.code, error);
          },
        );
    };
  }

  private wrapStream(path: string, scope: string, handler: StreamHandler<unknown, unknown>) {
    return (call: ServerWritableStream<unknown, unknown>) => {
      const rpc = this.begin(path, scope, call);
      const abort = new AbortController();
      call.on('cancelled', () => abort.abort());
      Promise.resolve()
        .then(rpc.prepare)
        .then((ctx) => handler(call.request, ctx, (message) => call.write(message), abort.signal))
        .then(
          () => {
            call.end();
            rpc.finish(Code.OK);
          },
          (error: unknown) => {
            const serviceError = toServiceError(error, rpc.logger());
            // emit('error') sends the status; destroy() would leave the client waiting for one.
            if (!abort.signal.aborted) call.emit('error', Object.assign(new Error(serviceError.details), serviceError));
            rpc.finish(abort.signal.aborted ? Code.CANCELLED : serviceError.code, error);
          },
        );
    };
  }

  /** Binds and starts serving; returns the bound port (useful with port 0 in tests). */
  async listen(host: string, port: number): Promise<number> {
    const { tls } = this.options;
    const credentials = tls
      ? ServerCredentials.createSsl(tls.ca ?? null, [{ private_key: tls.key, cert_chain: tls.cert }], Boolean(tls.ca))
      : ServerCredentials.createInsecure();
    return new Promise((resolve, reject) => {
      this.server.bindAsync(`${host}:${port}`, credentials, (error, bound) => (error ? reject(error) : resolve(bound)));
    });
  }

  /**
   * Graceful stop: report NOT_SERVING, refuse new calls, let in-flight calls
   * finish; after graceMs cancel whatever is left.
   */
  async shutdown(graceMs: number): Promise<void> {
    this.health.setAll(Serving.NOT_SERVING);
    this.health.endWatches();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
