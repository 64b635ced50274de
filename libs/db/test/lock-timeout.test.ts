import { expect } from 'chai';
import { setLockTimeout } from '../migrate.js';
import { createTestDatabase, type TestDatabase } from '#test/support/test-database.js';

describe('setLockTimeout (libs/db/migrate.ts)', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase('lock_timeout');
  });
  after(async () => database?.drop());

  const lockTimeout = async (db: TestDatabase['db']) =>
    (await db.raw<{ rows: { lock_timeout: string }[] }>('show lock_timeout')).rows[0]!.lock_timeout;

  it('bounds lock waits inside the migration’s transaction and leaves the session as it was', async () => {
    const inside = await database.db.transaction(async (trx) => {
      await setLockTimeout(trx, '3s');
      return lockTimeout(trx);
    });
    expect(inside).to.equal('3s');
    // Every connection of the pool: none kept the setting after the commit.
    const after = await Promise.all(Array.from({ length: 3 }, () => database.db.transaction((trx) => lockTimeout(trx))));
    expect(after).to.deep.equal(['0', '0', '0']);
  });

  it('refuses to run outside a transaction, where SET LOCAL would do nothing', async () => {
    let error: Error | undefined;
    await setLockTimeout(database.db).catch((e: Error) => (error = e));
    expect(error?.message).to.match(/needs the transaction/);
  });
});
