import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { createTestDatabase, testEnvironment, uniqueName, type TestDatabase } from '@clinmesh/testing';
import { serviceDataSource } from './service-data-source';

/**
 * A service's connections run without JIT whatever the database says: the test database turns JIT on
 * (and makes every plan worth compiling), a plain connection compiles, the service's does not.
 */
describe('service data source: JIT off in every service session', { timeout: 60_000 }, () => {
  const env = testEnvironment();
  let db: TestDatabase;

  before(async () => {
    db = await createTestDatabase(env, uniqueName('jit').slice(0, 63));
    const admin = new Client({ connectionString: db.url });
    await admin.connect();
    const name = (await admin.query<{ d: string }>('SELECT current_database() AS d')).rows[0].d;
    await admin.query(`ALTER DATABASE "${name}" SET jit = on`);
    await admin.query(`ALTER DATABASE "${name}" SET jit_above_cost = 0`);
    await admin.end();
  });
  after(async () => db?.drop());

  /** Whether the plan of a trivial query was JIT-compiled (EXPLAIN ANALYZE reports a JIT section). */
  const compiled = async (query: (sql: string) => Promise<Array<Record<string, string>>>) =>
    (await query('EXPLAIN (ANALYZE, FORMAT TEXT) SELECT sum(g) FROM generate_series(1, 10) AS g')).some((r) => /^JIT:/.test(r['QUERY PLAN']));

  it('a plain session compiles; the service session neither has JIT on nor compiles', async (t) => {
    const plain = new Client({ connectionString: db.url });
    await plain.connect();
    try {
      if ((await plain.query<{ jit: string }>('SHOW jit')).rows[0].jit !== 'on') return t.skip('this PostgreSQL was built without JIT');
      // Without LLVM support jit=on still plans no JIT section: then there is nothing to prove here.
      if (!(await compiled(async (sql) => (await plain.query(sql)).rows))) return t.skip('this PostgreSQL has no JIT provider');
    } finally {
      await plain.end();
    }
    const service = serviceDataSource({ service: 'jit-check', url: db.url, poolSize: 1 });
    await service.initialize();
    try {
      assert.equal((await service.query('SHOW jit'))[0].jit, 'off');
      assert.equal(await compiled((sql) => service.query(sql)), false);
    } finally {
      await service.destroy();
    }
  });

  it("connects over the Unix-domain socket a URL's `host` parameter names, and over TCP without one", async () => {
    // The embedded platform's URLs carry the socket directory; TypeORM alone would drop it and use TCP.
    assert.match(db.url, /[?&]host=%2F/, 'the test platform hands out socket URLs');
    const serverAddress = async (url: string) => {
      const ds = serviceDataSource({ service: 'socket-check', url, poolSize: 1 });
      await ds.initialize();
      try {
        return (await ds.query('SELECT host(inet_server_addr()) AS addr'))[0].addr as string | null;
      } finally {
        await ds.destroy();
      }
    };
    assert.equal(await serverAddress(db.url), null, 'a Unix-domain socket session has no server address');
    assert.equal(await serverAddress(db.url.replace(/\?.*$/, '')), '127.0.0.1');
  });
});
