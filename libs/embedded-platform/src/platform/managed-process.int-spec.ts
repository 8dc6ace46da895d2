import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManagedProcess, nodeFlags } from './managed-process';

describe('ManagedProcess', () => {
  it('says why a service exited before it was ready (its own "failed to start" reason), not only that it did', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clinmesh-managed-process-'));
    const proc = new ManagedProcess({
      name: 'ingest',
      entry: 'apps/ingest/src/main.js',
      logFile: join(dir, 'ingest.log'),
      // A configuration the service refuses at start, before it touches anything.
      env: { ...process.env, INGEST_HTTP_PORT: 'not-a-port', INGEST_DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' },
    });
    try {
      proc.start();
      await assert.rejects(proc.waitForHttp('http://127.0.0.1:1/health/ready', 60000), (error: Error) => {
        assert.match(error.message, /^ingest exited \(code 1\) before it was ready: /);
        assert.match(error.message, /INGEST_HTTP_PORT/);
        return true;
      });
    } finally {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs with a 64 MB semi-space unless CLINMESH_NODE_ARGS says otherwise (the last flag wins)', () => {
    assert.deepEqual(nodeFlags({}), ['--max-semi-space-size=64']);
    assert.deepEqual(nodeFlags({ CLINMESH_NODE_ARGS: ' --max-semi-space-size=16  --cpu-prof ' }), ['--max-semi-space-size=64', '--max-semi-space-size=16', '--cpu-prof']);
  });
});
