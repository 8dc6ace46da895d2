import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataSource, QueryFailedError } from 'typeorm';
import { MigratedDatabases, testEnvironment } from '@clinmesh/testing';
import { EVENT_RUNTIME_MIGRATIONS } from './migrations';
import { queryPrepared } from './prepared-statement';
import { inTransaction } from './unit-of-work';
import { poolQueries } from './runtime.repository';

/**
 * Prepared statements on PostgreSQL: the same results as an unnamed statement, on the pool and inside a
 * transaction (rolled back with it), planned once — PostgreSQL switches to its generic plan — and errors
 * carrying the server's code as TypeORM's QueryFailedError.
 */
describe('prepared statements (queryPrepared, { prepared: true })', { timeout: 60_000 }, () => {
  const env = testEnvironment();
  const databases = new MigratedDatabases(env, EVENT_RUNTIME_MIGRATIONS);
  let db: DataSource;

  before(async () => {
    db = await databases.create('rt_prepared');
    await db.query('CREATE TABLE t_prepared (id int PRIMARY KEY, name text NOT NULL)');
  });
  after(() => databases.dropAll());

  const insert = 'INSERT INTO t_prepared (id, name) SELECT i, n FROM unnest($1::int[], $2::text[]) AS t(i, n)';
  const select = 'SELECT id, name FROM t_prepared WHERE id = ANY($1::int[]) ORDER BY id';

  it('returns what an unnamed statement returns, on the pool and in a transaction; a rollback undoes it', async () => {
    const pool = poolQueries(db);
    assert.equal(await pool.execute(insert, [[1, 2, 3], ['a', 'b', 'c']], { prepared: true }), 3);
    assert.deepEqual(await pool.query(select, [[1, 3]], { prepared: true }), await db.query(select, [[1, 3]]));
    await assert.rejects(inTransaction(db, async (uow) => {
      assert.equal(await uow.execute(insert, [[4], ['d']], { prepared: true }), 1);
      assert.deepEqual(await uow.query(select, [[4]], { prepared: true }), [{ id: 4, name: 'd' }], 'visible inside its transaction');
      throw new Error('roll back');
    }), /roll back/);
    assert.deepEqual(await pool.query(select, [[4]], { prepared: true }), [], 'rolled back with the transaction');
  });

  it('is parsed once per connection and stops being planned per call (a generic plan after five)', async () => {
    const probe = 'SELECT name FROM t_prepared WHERE id = $1';
    await inTransaction(db, async (uow) => {
      for (let i = 0; i < 8; i++) await uow.query(probe, [1 + (i % 3)], { prepared: true });
      const [statement] = await uow.query<{ n: number; generic: string; custom: string }>(
        'SELECT count(*) OVER ()::int AS n, generic_plans AS generic, custom_plans AS custom FROM pg_prepared_statements WHERE statement = $1', [probe]);
      assert.ok(statement, 'a named prepared statement on this connection');
      assert.equal(statement.n, 1, 'one statement for eight calls');
      assert.ok(Number(statement.generic) >= 1, `generic plans used: ${JSON.stringify(statement)}`);
      assert.ok(Number(statement.custom) <= 5, `custom plans: ${JSON.stringify(statement)}`);
    });
  });

  it("fails as an unnamed statement fails: QueryFailedError with the server's code", async () => {
    await assert.rejects(queryPrepared(db, insert, [[1], ['again']]), (e: unknown) => e instanceof QueryFailedError && (e.driverError as { code?: string }).code === '23505');
  });
});
