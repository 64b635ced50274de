import { Metadata, status as Code, type ServiceError } from '@grpc/grpc-js';
import { Any } from '#libs/contracts/google/protobuf/any.js';
import { ErrorInfo, PreconditionFailure } from '#libs/contracts/google/rpc/error_details.js';
import { Status } from '#libs/contracts/google/rpc/status.js';
import { AppError, type ErrorKind } from '#libs/errors/app-error.js';
import type { Logger } from '#libs/logging/logger.js';

const codeOfKind: Record<ErrorKind, Code> = {
  invalid: Code.INVALID_ARGUMENT,
  notFound: Code.NOT_FOUND,
  alreadyExists: Code.ALREADY_EXISTS,
  failedPrecondition: Code.FAILED_PRECONDITION,
  aborted: Code.ABORTED,
  unauthenticated: Code.UNAUTHENTICATED,
  permissionDenied: Code.PERMISSION_DENIED,
  unavailable: Code.UNAVAILABLE,
  deadlineExceeded: Code.DEADLINE_EXCEEDED,
  resourceExhausted: Code.RESOURCE_EXHAUSTED,
};

/** The domain every ErrorInfo names (AIP-193). */
const ERROR_DOMAIN = 'larder.dev';

/**
 * Failures that are not AppErrors but that we understand: database and pool
 * conditions a caller should retry rather than report as a bug.
 */
function classifyInfrastructureError(error: unknown): AppError | undefined {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  const message = error instanceof Error ? error.message : '';
  if (code === '40001' || code === '40P01') {
    return new AppError('aborted', 'concurrent modification, retry the request', { reason: 'CONCURRENT_MODIFICATION', cause: error });
  }
  if (code === '55P03') {
    return new AppError('aborted', 'resource is locked, retry the request', { reason: 'LOCK_TIMEOUT', cause: error });
  }
  // Backstop: a value the caller sent that PostgreSQL cannot store or parse.
  if (code === '22P02' || code === '22021' || code === '22001' || code === '22003') {
    return new AppError('invalid', 'the request holds a value that cannot be stored', { reason: 'UNSTORABLE_VALUE', cause: error });
  }
  if (code === '57014') {
    return new AppError('deadlineExceeded', 'the database query took too long', { cause: error });
  }
  // A write on a standby: the connection reached a node that is not (or no longer)
  // the primary, e.g. through a proxy that has not yet marked it down after a
  // restart or a failover (docs/database-failover.md). The primary is what is
  // unavailable; the pool reconnects once the proxy routes to the new one.
  if (code === '25006') {
    return new AppError('unavailable', 'the database is read-only (not the primary), retry later', {
      reason: 'DATABASE_UNAVAILABLE',
      cause: error,
    });
  }
  if (
    code === 'ECONNREFUSED' ||
    code === 'ECONNRESET' ||
    code === 'ETIMEDOUT' ||
    code === '57P01' ||
    code === '57P03' ||
    (typeof code === 'string' && code.startsWith('08')) ||
    /Timeout acquiring a connection|Connection terminated|connect ECONNREFUSED/.test(message)
  ) {
    return new AppError('unavailable', 'the database is unavailable, retry later', { reason: 'DATABASE_UNAVAILABLE', cause: error });
  }
  return undefined;
}

/** The single place where any thrown value becomes a gRPC status for the caller. */
export function toServiceError(error: unknown, logger: Logger): Partial<ServiceError> & { code: Code } {
  const known = error instanceof AppError ? error : classifyInfrastructureError(error);
  if (!known) {
    // A bug, not a caller's fault: log it in full, tell the caller nothing internal.
    logger.error({ err: error }, 'unexpected error');
    return { code: Code.INTERNAL, details: 'internal error' };
  }
  if (known !== error) logger.warn({ err: error }, known.message);
  const code = codeOfKind[known.kind];
  const info = ErrorInfo.encode({ reason: known.reason, domain: ERROR_DOMAIN, metadata: known.metadata }).finish();
  const status = Status.encode({
    code,
    message: known.message,
    details: [
      Any.fromPartial({ typeUrl: 'type.googleapis.com/google.rpc.ErrorInfo', value: Buffer.from(info) }),
      ...(known.violations.length === 0
        ? []
        : [
            Any.fromPartial({
              typeUrl: 'type.googleapis.com/google.rpc.PreconditionFailure',
              value: Buffer.from(PreconditionFailure.encode({ violations: [...known.violations] }).finish()),
            }),
          ]),
    ],
  }).finish();
  const metadata = new Metadata();
  metadata.set('grpc-status-details-bin', Buffer.from(status));
  return { code, details: known.message, metadata };
}

/** Reads the ErrorInfo a Larder server attached to an error, if any (for clients and tests). */
export function errorInfoOf(error: { metadata?: Metadata }): ErrorInfo | undefined {
  const any = detailOf(error, 'google.rpc.ErrorInfo');
  return any ? ErrorInfo.decode(any.value) : undefined;
}

/** Reads the PreconditionFailure (one violation per unmet condition) a Larder server attached, if any. */
export function preconditionFailureOf(error: { metadata?: Metadata }): PreconditionFailure | undefined {
  const any = detailOf(error, 'google.rpc.PreconditionFailure');
  return any ? PreconditionFailure.decode(any.value) : undefined;
}

function detailOf(error: { metadata?: Metadata }, typeName: string): Any | undefined {
  const raw = error.metadata?.get('grpc-status-details-bin')[0];
  if (!raw || typeof raw === 'string') return undefined;
  return Status.decode(raw).details.find((d) => d.typeUrl.endsWith(typeName));
}
