import { expect } from 'chai';
import { dropDatabase, ensureDatabase, withDatabase } from '../admin.js';
import { createDatabase } from '../knex.js';
import { prepared, statementName } from '../prepared.js';
import { TEST_DATABASE_SERVER } from '#test/support/test-database.js';

/** Names of the statements prepared on the connection that runs `query` (pg_prepared_statements is per session). */
const SESSION_STATEMENTS = 'select name from pg_prepared_statements order by name';

describe('prepared statements (libs/db/prepared.ts)', () => {
  const url = withDatabase(TEST_DATABASE_SERVER, `prepared_test_${Date.now().toString(36)}`);
  before(async () => {
    await ensureDatabase(url);
  });
  after(async () => {
    await dropDatabase(url);
  });

  for (const enabled of [true, false]) {
    it(`${enabled ? 'names' : 'does not name'} a marked statement when preparedStatements is ${enabled}`, async () => {
      const db = createDatabase({ url, poolMax: 1, preparedStatements: enabled });
      try {
        await db.transaction(async (trx) => {
          const sql = 'select ?::int + 1 as n';
          const first = await prepared(trx.raw<{ rows: { n: number }[] }>(sql, [41]));
          const second = await prepared(trx.raw<{ rows: { n: number }[] }>(sql, [1]));
          expect([first.rows[0]!.n, second.rows[0]!.n]).to.deep.equal([42, 2]);
          // An unmarked statement is never named.
          await trx.raw('select ?::text as t', ['x']);
          const { rows } = await trx.raw<{ rows: { name: string }[] }>(SESSION_STATEMENTS);
          expect(rows.map((r) => r.name)).to.deep.equal(enabled ? [statementName('select $1::int + 1 as n')] : []);
        });
      } finally {
        await db.destroy();
      }
    });
  }

  it('gives each text of a varying statement its own name, and query builders work too', async () => {
    const db = createDatabase({ url, poolMax: 1, preparedStatements: true });
    try {
      await db.transaction(async (trx) => {
        await trx.raw('create temporary table t (a int, b int) on commit drop');
        await prepared(trx('t').insert({ a: 1 }));
        await prepared(trx('t').insert({ a: 2, b: 3 }));
        await prepared(trx('t').insert({ a: 4 }));
        const rows: { a: number; b: number | null }[] = await prepared(trx('t').select('a', 'b').orderBy('a'));
        expect(rows).to.deep.equal([
          { a: 1, b: null },
          { a: 2, b: 3 },
          { a: 4, b: null },
        ]);
        const named = await trx.raw<{ rows: { name: string }[] }>(SESSION_STATEMENTS);
        expect(named.rows).to.have.length(3);
      });
    } finally {
      await db.destroy();
    }
  });

  it('names fit PostgreSQL identifiers and differ per text', () => {
    const a = statementName('select 1');
    expect(a).to.match(/^l_[0-9a-f]{24}$/);
    expect(statementName('select 2')).to.not.equal(a);
    expect(statementName('select 1')).to.equal(a);
  });
});
