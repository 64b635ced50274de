import { status as Code, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { errorInfoOf } from '#libs/grpc/status.js';

/**
 * Awaits a call that must fail with `code`; returns the error and its
 * ErrorInfo so a test can check the field or reason it names.
 */
export async function expectGrpcError(call: Promise<unknown>, code: Code) {
  let error: ServiceError | undefined;
  try {
    await call;
  } catch (caught) {
    error = caught as ServiceError;
  }
  expect(error, `expected ${Code[code]}, but the call succeeded`).to.not.equal(undefined);
  expect(Code[error!.code], error!.details).to.equal(Code[code]);
  const info = errorInfoOf(error!);
  return { error: error!, info, field: info?.metadata.field, reason: info?.reason };
}

/** The gRPC status name of a settled call: 'OK' or the error's code. */
export async function outcomeOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'OK';
  } catch (error) {
    const code = (error as ServiceError).code;
    return typeof code === 'number' ? Code[code]! : `THROWN: ${(error as Error).message}`;
  }
}

/** How many calls ended with each outcome, e.g. { OK: 10, FAILED_PRECONDITION: 190 }. */
export const tally = (outcomes: readonly string[]): Record<string, number> =>
  outcomes.reduce<Record<string, number>>((acc, o) => ({ ...acc, [o]: (acc[o] ?? 0) + 1 }), {});
