import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CONSOLE_SERVICES, loadConsoleConfig } from './console.config';

const SECRET = 's'.repeat(32);
const urls = Object.fromEntries(CONSOLE_SERVICES.map((s, i) => [`CONSOLE_${s.toUpperCase().replace(/-/g, '_')}_URL`, `http://127.0.0.1:${3001 + i}/`]));

describe('console config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'console-config-'));
  const noRuntime = join(dir, 'absent.json');
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads every CONSOLE_* variable, the sampler token included, and strips a trailing slash from service URLs', () => {
    const config = loadConsoleConfig({ ...urls, CLINMESH_AUTH_SECRET: SECRET, CLINMESH_RUNTIME_FILE: noRuntime, CONSOLE_HTTP_PORT: '9100', CONSOLE_IDLE_MINUTES: '5', CONSOLE_SAMPLER_TOKEN: 'tok', CONSOLE_SECURE_COOKIE: 'true' }, dir);
    assert.equal(config.services['identity-resolution'], 'http://127.0.0.1:3002');
    assert.deepEqual([config.port, config.idleMs, config.samplerToken, config.secureCookie, config.accessLog], [9100, 300_000, 'tok', true, 'info']);
    assert.equal(config.staticDir, join(dir, 'dist', 'console-web'));
  });

  it('without a sampler token the sampler waits for an admin (undefined, not an empty string)', () => {
    assert.equal(loadConsoleConfig({ ...urls, CLINMESH_AUTH_SECRET: SECRET, CLINMESH_RUNTIME_FILE: noRuntime, CONSOLE_SAMPLER_TOKEN: '' }, dir).samplerToken, undefined);
  });

  it('takes service URLs and the token secret from the embedded platform\'s runtime file when not given', () => {
    const runtimeFile = join(dir, 'runtime.json');
    const endpoints = Object.fromEntries(CONSOLE_SERVICES.map((s, i) => [s, { http: `http://127.0.0.1:${4001 + i}` }]));
    writeFileSync(runtimeFile, JSON.stringify({ endpoints, internal: { secrets: { authSecret: SECRET } } }));
    const config = loadConsoleConfig({ CLINMESH_RUNTIME_FILE: runtimeFile }, dir);
    assert.equal(config.services.notifier, 'http://127.0.0.1:4006');
    assert.equal(config.authSecret, SECRET);
  });

  it('lists every problem at once and refuses to start', () => {
    assert.throws(
      () => loadConsoleConfig({ CLINMESH_RUNTIME_FILE: noRuntime, CLINMESH_AUTH_SECRET: 'short', CONSOLE_HTTP_PORT: 'x', CLINMESH_HTTP_ACCESS_LOG: 'loud' }, dir),
      (e: Error) => [/CONSOLE_INGEST_URL is required/, /CONSOLE_NOTIFIER_URL is required/, /CLINMESH_AUTH_SECRET is required/, /CONSOLE_HTTP_PORT must be a non-negative integer/, /CLINMESH_HTTP_ACCESS_LOG must be/]
        .every((pattern) => pattern.test(e.message)),
    );
  });
});
