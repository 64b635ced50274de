import { status as Code, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import type { Knex } from 'knex';
import { errorInfoOf } from '#libs/grpc/status.js';

/**
 * The pieces both services' request-validation tests share: a matrix of bad
 * requests per RPC, each of which must be answered INVALID_ARGUMENT with an
 * ErrorInfo naming the field at fault (proto snake_case path), and the record
 * of every answer, checked afterwards for UNKNOWN or INTERNAL.
 */

export const chars = (n: number, c = 'a') => c.repeat(n);
export const INT32_MAX = 2 ** 31 - 1;
export const INT32_MIN = -(2 ** 31);

export interface ValidationCase<Api, Fixtures> {
  name: string;
  call: (api: Api, f: Fixtures) => Promise<unknown>;
  /** The ErrorInfo metadata `field` the answer must name. */
  field: string;
}

/** Cases grouped by RPC. */
export type ValidationMatrix<Api, Fixtures> = Record<string, ValidationCase<Api, Fixtures>[]>;

/** One case's gRPC code ('OK' when the call succeeded). */
export interface Outcome {
  name: string;
  code: string;
}

/** One describe per RPC, one test per case; each case's code goes into `outcomes`. */
export function describeValidationMatrix<Api, Fixtures>(
  matrix: ValidationMatrix<Api, Fixtures>,
  context: () => { api: Api; fixtures: Fixtures },
  outcomes: Outcome[],
): void {
  for (const [rpc, cases] of Object.entries(matrix)) {
    describe(rpc, () => {
      for (const testCase of cases) {
        it(`${testCase.name} → INVALID_ARGUMENT naming ${testCase.field}`, async () => {
          const { api, fixtures } = context();
          let error: ServiceError | undefined;
          try {
            await testCase.call(api, fixtures);
          } catch (caught) {
            error = caught as ServiceError;
          }
          outcomes.push({ name: `${rpc}: ${testCase.name}`, code: error ? Code[error.code]! : 'OK' });
          expect(error, `expected INVALID_ARGUMENT, but ${rpc} succeeded`).to.not.equal(undefined);
          expect(Code[error!.code], error!.details).to.equal('INVALID_ARGUMENT');
          const info = errorInfoOf(error!);
          expect(info, 'ErrorInfo in grpc-status-details-bin').to.not.equal(undefined);
          expect(info!.domain).to.equal('larder.dev');
          expect(info!.metadata.field, error!.details).to.equal(testCase.field);
          // The message names the field too, for humans reading logs.
          expect(error!.details).to.include(testCase.field);
        });
      }
    });
  }
}

/** The test that every case of `matrix` was answered, and none UNKNOWN or INTERNAL. */
export function itAnsweredNoUnknownOrInternal<Api, Fixtures>(matrix: ValidationMatrix<Api, Fixtures>, outcomes: readonly Outcome[]): void {
  it('no case was answered UNKNOWN or INTERNAL', () => {
    const total = Object.values(matrix).reduce((n, cases) => n + cases.length, 0);
    expect(outcomes.length).to.be.at.least(total);
    expect(outcomes.filter((o) => o.code === 'UNKNOWN' || o.code === 'INTERNAL')).to.deep.equal([]);
  });
}

/** Row count of each table, to compare before and after the bad requests. */
export async function rowCounts(db: Knex, tables: readonly string[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of tables) counts[table] = Number((await db(table).count<{ count: string }[]>('* as count'))[0]!.count);
  return counts;
}
