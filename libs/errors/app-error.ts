/**
 * The kinds of failure every layer speaks. Each maps to exactly one gRPC status
 * (libs/grpc/status.ts); domain and data code never import gRPC.
 */
export type ErrorKind =
  | 'invalid'
  | 'notFound'
  | 'alreadyExists'
  | 'failedPrecondition'
  | 'aborted'
  | 'unauthenticated'
  | 'permissionDenied'
  | 'unavailable'
  | 'deadlineExceeded'
  | 'resourceExhausted';

export interface AppErrorOptions {
  /** The request field at fault, in proto snake_case path form (e.g. `items[2].quantity`). */
  field?: string;
  /** Stable, machine-readable reason (google.rpc.ErrorInfo.reason), e.g. INSUFFICIENT_STOCK. */
  reason?: string;
  /** Extra facts for the caller (ErrorInfo.metadata), e.g. product_id, available. */
  metadata?: Record<string, string>;
  /** What failed, one entry per unmet condition (google.rpc.PreconditionFailure), e.g. each short line. */
  violations?: readonly PreconditionViolation[];
  cause?: unknown;
}

/** One unmet precondition (google.rpc.PreconditionFailure.Violation): a type, what it is about, why. */
export interface PreconditionViolation {
  type: string;
  subject: string;
  description: string;
}

/** An expected failure, carried as a value with a kind a caller can branch on. */
export class AppError extends Error {
  readonly kind: ErrorKind;
  readonly field?: string;
  readonly reason: string;
  readonly metadata: Record<string, string>;
  readonly violations: readonly PreconditionViolation[];

  constructor(kind: ErrorKind, message: string, options: AppErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.kind = kind;
    this.field = options.field;
    this.reason = options.reason ?? defaultReason[kind];
    this.metadata = { ...(options.field ? { field: options.field } : {}), ...options.metadata };
    this.violations = options.violations ?? [];
  }
}

const defaultReason: Record<ErrorKind, string> = {
  invalid: 'INVALID_ARGUMENT',
  notFound: 'NOT_FOUND',
  alreadyExists: 'ALREADY_EXISTS',
  failedPrecondition: 'FAILED_PRECONDITION',
  aborted: 'ABORTED',
  unauthenticated: 'UNAUTHENTICATED',
  permissionDenied: 'PERMISSION_DENIED',
  unavailable: 'UNAVAILABLE',
  deadlineExceeded: 'DEADLINE_EXCEEDED',
  resourceExhausted: 'RESOURCE_EXHAUSTED',
};

/** Bad input: names the field and says why. */
export const invalid = (field: string, why: string, reason = 'INVALID_ARGUMENT'): AppError =>
  new AppError('invalid', `${field}: ${why}`, { field, reason });

export const notFound = (what: string, id: string): AppError =>
  new AppError('notFound', `${what} ${id} not found`, { reason: `${what.toUpperCase().replace(/ /g, '_')}_NOT_FOUND`, metadata: { id } });

export const alreadyExists = (message: string, options: AppErrorOptions = {}): AppError => new AppError('alreadyExists', message, options);

export const failedPrecondition = (message: string, options: AppErrorOptions = {}): AppError =>
  new AppError('failedPrecondition', message, options);

export const aborted = (message: string, options: AppErrorOptions = {}): AppError => new AppError('aborted', message, options);

export const unavailable = (message: string, options: AppErrorOptions = {}): AppError => new AppError('unavailable', message, options);
