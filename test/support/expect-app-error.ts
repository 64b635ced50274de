import { expect } from 'chai';
import { AppError, type ErrorKind } from '#libs/errors/app-error.js';

/** Runs `fn`, which must throw an AppError of `kind`; returns it for further checks. */
export function expectAppError(fn: () => unknown, kind: ErrorKind, field?: string): AppError {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, `expected an AppError of kind ${kind}, but nothing was thrown`).to.be.instanceOf(AppError);
  const error = thrown as AppError;
  expect(error.kind, error.message).to.equal(kind);
  if (field !== undefined) {
    expect(error.field, error.message).to.equal(field);
    expect(error.metadata.field).to.equal(field);
  }
  return error;
}

/** Shorthand: the call is refused as bad input naming `field`. */
export const expectInvalid = (fn: () => unknown, field: string): AppError => expectAppError(fn, 'invalid', field);
