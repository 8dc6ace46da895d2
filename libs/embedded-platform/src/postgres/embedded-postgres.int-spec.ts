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
 * The embedded server's two modes: the durable one `npm start` and the benchmarks run (fsync on,
 * JIT off, autovacuum every 2 s so queue tables stay small) and the fast one of the test platform.
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

  it('durable: every commit is flushed, JIT is off, and each database is visited by autovacuum every 2 s', async () => {
    assert.deepEqual(await settings(await start(false), names), {
      fsync: 'on', synchronous_commit: 'on', full_page_writes: 'on', jit: 'off', autovacuum: 'on', autovacuum_naptime: '2s',
    });
  });

  it('fast (tests only): no flushing, and the default naptime (the test server hosts hundreds of short-lived databases)', async () => {
    assert.deepEqual(await settings(await start(true), names), {
      fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', jit: 'off', autovacuum: 'on', autovacuum_naptime: '60s',
    });
  });
});
