import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort } from '../platform/free-port';
import { RunningPostgres, startEmbeddedPostgres } from './embedded-postgres';

/** The server settings a started embedded PostgreSQL reports, by name. */
async function settings(pg: RunningPostgres, names: string[]): Promise<Record<string, string>> {
  const client = new Client({ connectionString: pg.superuserUrl });
  await client.connect();
  try {
    const rows = (await client.query('SELECT name, setting, unit FROM pg_settings WHERE name = ANY($1)', [names])).rows as Array<{ name: string; setting: string; unit: string | null }>;
    return Object.fromEntries(rows.map((r) => [r.name, r.unit === 's' ? `${r.setting}s` : r.setting]));
  } finally {
    await client.end();
  }
}

/**
 * The embedded server's two modes: the durable one `npm start` and the benchmarks run (every commit
 * flushed: the figures are asked for with fsync on) and the fast one of the test platform.
 * Both run with JIT off and PostgreSQL's default autovacuum visit (see the runtime README for why
 * a shorter naptime was measured and dropped).
 */
describe('embedded PostgreSQL: durable and fast settings', { timeout: 120_000 }, () => {
  const dirs: string[] = [];
  const servers: RunningPostgres[] = [];
  after(async () => {
    for (const s of servers) await s.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function start(fast: boolean): Promise<RunningPostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'clinmesh-embedded-pg-'));
    dirs.push(dir);
    const pg = await startEmbeddedPostgres({ dataDir: dir, port: await freePort(), fast });
    servers.push(pg);
    return pg;
  }

  const names = ['fsync', 'synchronous_commit', 'full_page_writes', 'jit', 'autovacuum', 'autovacuum_naptime'];

  it('durable: every commit is flushed, JIT is off', async () => {
    assert.deepEqual(await settings(await start(false), names), {
      fsync: 'on', synchronous_commit: 'on', full_page_writes: 'on', jit: 'off', autovacuum: 'on', autovacuum_naptime: '60s',
    });
  });

  it("its URLs reach the server over its Unix-domain socket (the TCP listener stays for tools that ignore `host`)", async () => {
    const pg = await start(true);
    const client = new Client({ connectionString: pg.urlFor('postgres') });
    await client.connect();
    try {
      assert.equal((await client.query('SELECT host(inet_server_addr()) AS a')).rows[0].a, null);
    } finally {
      await client.end();
    }
    const tcp = new Client({ connectionString: pg.urlFor('postgres').replace(/\?.*$/, '') });
    await tcp.connect();
    try {
      assert.equal((await tcp.query('SELECT host(inet_server_addr()) AS a')).rows[0].a, '127.0.0.1');
    } finally {
      await tcp.end();
    }
  });

  it('fast (tests only): nothing flushed, JIT off', async () => {
    assert.deepEqual(await settings(await start(true), names), {
      fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', jit: 'off', autovacuum: 'on', autovacuum_naptime: '60s',
    });
  });
});
