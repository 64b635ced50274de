import { Metadata, status as Code } from '@grpc/grpc-js';
import { expect } from 'chai';
import { pino } from 'pino';
import { AppError, invalid, notFound, type ErrorKind } from '#libs/errors/app-error.js';
import { errorInfoOf, preconditionFailureOf, toServiceError } from '../../status.js';
import { silentLogger } from '#libs/logging/logger.js';

const logger = silentLogger();

/** A logger that keeps what it writes, to check what reaches the logs. */
function recordingLogger() {
  const lines: { level: number; msg: string; err?: { message?: string } }[] = [];
  const log = pino({ level: 'trace' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { log, lines };
}

const kinds: [ErrorKind, Code][] = [
  ['invalid', Code.INVALID_ARGUMENT],
  ['notFound', Code.NOT_FOUND],
  ['alreadyExists', Code.ALREADY_EXISTS],
  ['failedPrecondition', Code.FAILED_PRECONDITION],
  ['aborted', Code.ABORTED],
  ['unauthenticated', Code.UNAUTHENTICATED],
  ['permissionDenied', Code.PERMISSION_DENIED],
  ['unavailable', Code.UNAVAILABLE],
  ['deadlineExceeded', Code.DEADLINE_EXCEEDED],
  ['resourceExhausted', Code.RESOURCE_EXHAUSTED],
];

const pgError = (code: string, message = `pg error ${code}`) => Object.assign(new Error(message), { code });

describe('libs/grpc/status', () => {
  describe('toServiceError for AppErrors', () => {
    for (const [kind, code] of kinds) {
      it(`maps kind ${kind} to ${Code[code]}`, () => {
        const result = toServiceError(new AppError(kind, `something ${kind}`), logger);
        expect(Code[result.code]).to.equal(Code[code]);
        expect(result.details).to.equal(`something ${kind}`);
      });
    }

    it('attaches an ErrorInfo with reason, domain and metadata that errorInfoOf decodes', () => {
      const error = new AppError('failedPrecondition', 'not enough stock', {
        reason: 'INSUFFICIENT_STOCK',
        metadata: { product_id: 'p-1', available: '3' },
      });
      const result = toServiceError(error, logger);
      expect(result.metadata).to.be.instanceOf(Metadata);
      expect(result.metadata!.get('grpc-status-details-bin')[0]).to.be.instanceOf(Buffer);
      const info = errorInfoOf(result);
      expect(info?.reason).to.equal('INSUFFICIENT_STOCK');
      expect(info?.domain).to.equal('larder.dev');
      expect(info?.metadata).to.deep.equal({ product_id: 'p-1', available: '3' });
    });

    it('attaches a PreconditionFailure with one violation per unmet condition when the error has them, none otherwise', () => {
      const violations = [
        { type: 'INSUFFICIENT_STOCK', subject: 'product/p-1', description: '5 requested, 3 available' },
        { type: 'INSUFFICIENT_STOCK', subject: 'product/p-2', description: '2 requested, 0 available' },
      ];
      const result = toServiceError(
        new AppError('failedPrecondition', 'not enough stock', { reason: 'INSUFFICIENT_STOCK', violations }),
        logger,
      );
      expect(preconditionFailureOf(result)?.violations).to.deep.equal(violations);
      expect(errorInfoOf(result)?.reason).to.equal('INSUFFICIENT_STOCK');
      expect(preconditionFailureOf(toServiceError(new AppError('failedPrecondition', 'no'), logger))).to.equal(undefined);
    });

    it('carries the field of an invalid argument in the ErrorInfo metadata', () => {
      const info = errorInfoOf(toServiceError(invalid('items[1].quantity', 'must be positive'), logger));
      expect(info?.reason).to.equal('INVALID_ARGUMENT');
      expect(info?.metadata).to.deep.equal({ field: 'items[1].quantity' });
    });

    it('uses the reason derived by notFound()', () => {
      const result = toServiceError(notFound('product', 'abc'), logger);
      expect(result.code).to.equal(Code.NOT_FOUND);
      const info = errorInfoOf(result);
      expect(info?.reason).to.equal('PRODUCT_NOT_FOUND');
      expect(info?.metadata).to.deep.equal({ id: 'abc' });
    });
  });

  describe('toServiceError for database and pool failures', () => {
    const cases: [string, unknown, Code, string][] = [
      ['a serialization failure (40001)', pgError('40001'), Code.ABORTED, 'CONCURRENT_MODIFICATION'],
      ['a deadlock (40P01)', pgError('40P01'), Code.ABORTED, 'CONCURRENT_MODIFICATION'],
      ['a lock timeout (55P03)', pgError('55P03'), Code.ABORTED, 'LOCK_TIMEOUT'],
      ['a statement timeout (57014)', pgError('57014'), Code.DEADLINE_EXCEEDED, 'DEADLINE_EXCEEDED'],
      ['a refused connection (ECONNREFUSED)', pgError('ECONNREFUSED'), Code.UNAVAILABLE, 'DATABASE_UNAVAILABLE'],
      ['a reset connection (ECONNRESET)', pgError('ECONNRESET'), Code.UNAVAILABLE, 'DATABASE_UNAVAILABLE'],
      ['a connection failure (08006)', pgError('08006'), Code.UNAVAILABLE, 'DATABASE_UNAVAILABLE'],
      ['an administrator shutdown (57P01)', pgError('57P01'), Code.UNAVAILABLE, 'DATABASE_UNAVAILABLE'],
      ['a write on a standby (25006, read-only transaction)', pgError('25006'), Code.UNAVAILABLE, 'DATABASE_UNAVAILABLE'],
      ['a plain object with a code', { code: '40P01' }, Code.ABORTED, 'CONCURRENT_MODIFICATION'],
      [
        'a Knex pool timeout',
        new Error('Knex: Timeout acquiring a connection. The pool is probably full. Are you missing a .transacting(trx) call?'),
        Code.UNAVAILABLE,
        'DATABASE_UNAVAILABLE',
      ],
      ['a terminated connection', new Error('Connection terminated unexpectedly'), Code.UNAVAILABLE, 'DATABASE_UNAVAILABLE'],
    ];
    for (const [what, error, code, reason] of cases) {
      it(`maps ${what} to ${Code[code]} ${reason}`, () => {
        const result = toServiceError(error, logger);
        expect(Code[result.code]).to.equal(Code[code]);
        expect(errorInfoOf(result)?.reason).to.equal(reason);
        expect(result.details).not.to.contain('pg error');
      });
    }

    it('logs the underlying database error as a warning', () => {
      const { log, lines } = recordingLogger();
      toServiceError(pgError('40P01', 'deadlock detected'), log);
      expect(lines).to.have.length(1);
      expect(lines[0]!.level).to.equal(40);
      expect(lines[0]!.err?.message).to.equal('deadlock detected');
    });
  });

  describe('toServiceError for anything else', () => {
    it('turns an arbitrary Error into INTERNAL without leaking its message', () => {
      const result = toServiceError(new Error('secret table users_2 exploded at 10.0.0.7'), logger);
      expect(result.code).to.equal(Code.INTERNAL);
      expect(result.details).to.equal('internal error');
      expect(result.metadata).to.equal(undefined);
      expect(errorInfoOf(result)).to.equal(undefined);
    });

    it('does not mistake an unknown error code for a database failure', () => {
      expect(toServiceError(pgError('23505'), logger).code).to.equal(Code.INTERNAL);
      expect(toServiceError({ code: 40001 }, logger).code).to.equal(Code.INTERNAL);
    });

    it('logs the unexpected error in full at error level', () => {
      const { log, lines } = recordingLogger();
      toServiceError(new Error('boom'), log);
      expect(lines).to.have.length(1);
      expect(lines[0]!.level).to.equal(50);
      expect(lines[0]!.err?.message).to.equal('boom');
    });

    it('turns thrown non-Error values into INTERNAL', () => {
      for (const thrown of ['a string', 42, {}]) {
        const result = toServiceError(thrown, logger);
        expect(result.code).to.equal(Code.INTERNAL);
        expect(result.details).to.equal('internal error');
      }
    });

    // server.ts calls toServiceError inside a promise rejection handler: if it
    // throws, the call is never answered and the rejection goes unhandled.
    it('turns a thrown null or undefined into INTERNAL instead of throwing', () => {
      for (const thrown of [null, undefined]) {
        let result: ReturnType<typeof toServiceError> | undefined;
        expect(() => (result = toServiceError(thrown, logger)), String(thrown)).not.to.throw();
        expect(result?.code).to.equal(Code.INTERNAL);
      }
    });
  });

  describe('errorInfoOf', () => {
    it('answers undefined for errors without status details', () => {
      expect(errorInfoOf({})).to.equal(undefined);
      expect(errorInfoOf({ metadata: new Metadata() })).to.equal(undefined);
    });
  });
});
