import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SCOPES } from '@clinmesh/security';
import { ServiceHarness, waitFor } from '@clinmesh/testing';
import { DEFAULT_MATCH_CONFIG, generateUsRegistrations } from '@clinmesh/empi';

/**
 * The operator commands over HTTP, on the real identity-resolution process and its database:
 * scope, problem+json errors (400, 422 naming the reason, 404, 409, 412), 201 with the
 * per-level summary, ETag/If-Match, the list with the active set per source and the default,
 * and the audit trail. Scoring with an activated set is proven by match-parameters.int-spec.
 */
describe('identity-resolution: EM parameter set commands over HTTP', { timeout: 300_000 }, () => {
  let h: ServiceHarness;
  before(async () => {
    h = await ServiceHarness.start('ir_params', { services: ['identity-resolution'] });
  });
  after(async () => {
    await h?.stop();
  });

  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}, token?: string) =>
    h.request('identity-resolution', method, `/v1/admin/identity/parameters${path}`, body, headers, token);

  it('refuses without admin:operate, a bad source with 400, and too few records with 422 problem+json naming the reason', async () => {
    const reader = await h.token([SCOPES.personsRead], 'reader');
    assert.equal((await call('POST', '/estimate', {}, {}, reader)).status, 403);
    const bad = await call('POST', '/estimate', { source: 42 });
    assert.equal(bad.status, 400, bad.text);
    assert.equal(bad.json().code, 'IDENTITY.PARAMETERS.INVALID_SOURCE');
    const thin = await call('POST', '/estimate', { source: 'EMPTY' });
    assert.equal(thin.status, 422, thin.text);
    assert.match(thin.headers.get('content-type') ?? '', /application\/problem\+json/);
    assert.equal(thin.json().code, 'IDENTITY.PARAMETERS.INSUFFICIENT_DATA');
    assert.match(thin.text, /0 records; at least 200 are needed/);
    assert.equal((await call('POST', '/no-such-version/activate')).status, 404);
  });

  it('estimates a source into a stored set (201, per-level summary), activates it with If-Match (412 stale, 409 again), lists it as the source’s active set, audited, retires it', async () => {
    // A source's records as the index stores them (the estimate reads stored records, not links).
    const records = generateUsRegistrations({ seed: 19, persons: 300 }).map((g) => ({ ...g.record, recordId: `LAB-X|${g.record.recordId}`, sourceSystem: 'LAB-X' }));
    await h.query('identity-resolution',
      `INSERT INTO empi_record (record_id, person_id, source_system, data) SELECT r, 'EP-' || r, 'LAB-X', d FROM unnest($1::text[], $2::jsonb[]) AS t(r, d)`,
      [records.map((r) => r.recordId), records.map((r) => JSON.stringify(r))]);
    const created = await call('POST', '/estimate', { source: 'LAB-X' });
    assert.equal(created.status, 201, created.text);
    const set = created.json();
    assert.deepEqual([set.status, set.sourceSystem, set.records, set.converged, created.headers.get('etag')], ['estimated', 'LAB-X', records.length, true, '"1"']);
    assert.ok(set.iterations > 0 && set.candidatePairs > 200 && set.randomPairs > 0 && set.lambda > 0);
    const dob = set.comparisons.birthDate.exact;
    assert.ok(dob.estimated && dob.weight > 5 && typeof dob.m === 'number' && typeof dob.u === 'number' && typeof dob.defaultWeight === 'number', JSON.stringify(dob));

    const one = await call('GET', `/${encodeURIComponent(set.version)}`);
    assert.equal(one.status, 200);
    assert.equal(one.headers.get('etag'), '"1"');
    const stale = await call('POST', `/${encodeURIComponent(set.version)}/activate`, undefined, { 'if-match': '"9"' });
    assert.equal(stale.status, 412, stale.text);
    assert.equal(stale.json().code, 'IDENTITY.PARAMETERS.REVISION_MISMATCH');
    const activated = await call('POST', `/${encodeURIComponent(set.version)}/activate`, undefined, { 'if-match': '"1"' });
    assert.equal(activated.status, 200, activated.text);
    assert.deepEqual([activated.json().status, activated.json().retired, activated.headers.get('etag')], ['active', null, '"2"']);
    const again = await call('POST', `/${encodeURIComponent(set.version)}/activate`);
    assert.equal(again.status, 409, again.text);
    assert.equal(again.json().code, 'IDENTITY.PARAMETERS.ALREADY_ACTIVE');

    const list = await call('GET', '');
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(list.json().default.version, DEFAULT_MATCH_CONFIG.version);
    assert.deepEqual(list.json().active.map((a: { sourceSystem: string; version: string }) => [a.sourceSystem, a.version]), [['LAB-X', set.version]]);
    assert.deepEqual(list.json().sets.map((s: { version: string; status: string }) => [s.version, s.status]), [[set.version, 'active']]);

    const audit = await h.query('identity-resolution', `SELECT action, outcome FROM cm_audit WHERE action LIKE '%match-parameters' ORDER BY 1, 2`);
    assert.deepEqual(audit.map((a) => `${a.action}:${a.outcome}`), [
      'activate-match-parameters:allowed', 'activate-match-parameters:error', 'activate-match-parameters:error', 'activate-match-parameters:error',
      'estimate-match-parameters:allowed', 'estimate-match-parameters:error',
    ]);

    // The way back: retiring the active set leaves the source on the default.
    const retired = await call('POST', `/${encodeURIComponent(set.version)}/retire`, undefined, { 'if-match': '"2"' });
    assert.equal(retired.status, 200, retired.text);
    assert.deepEqual([retired.json().status, retired.headers.get('etag')], ['retired', '"3"']);
    assert.deepEqual((await call('GET', '')).json().active, []);
  });

  it('warns at start over records indexed without their keys, rebuilds them in a background job followed over HTTP (admin:operate only, audited); a second rebuild changes nothing', async () => {
    // The LAB-X rows above were written straight into empi_record, without keys: what a key-scheme change leaves behind.
    // Restarted over such an index, the service says so once, naming the command.
    const service = h.processes['identity-resolution'];
    const logFile = join(h.env.platformDir, 'logs', h.name, 'identity-resolution.log');
    await service.kill('SIGTERM');
    service.start();
    await h.waitReady(['identity-resolution']);
    const warning = readFileSync(logFile, 'utf8').split('\n').filter((l) => l.includes('older key scheme')).map((l) => JSON.parse(l));
    assert.equal(warning.length, 1, 'one warning at start');
    assert.deepEqual([warning[0].sampled, warning[0].stale, warning[0].level], [200, 200, 'warn']);
    assert.match(warning[0].msg, /identity-keys rebuild/);

    const rebuild = (token?: string) => h.request('identity-resolution', 'POST', '/v1/admin/identity/blocking-keys/rebuild', {}, {}, token);
    const reader = await h.token([SCOPES.personsRead], 'reader');
    assert.equal((await rebuild(reader)).status, 403);
    // A background job: 202 with where to follow it, followed until it ends.
    const follow = async (res: Awaited<ReturnType<typeof rebuild>>) => {
      assert.equal(res.status, 202, res.text);
      const location = res.headers.get('location')!;
      assert.equal(location, `/v1/admin/identity/blocking-keys/rebuilds/${res.json().id}`);
      assert.equal(res.json().requestedBy, 'e2e-tester');
      return waitFor(async () => {
        const job = (await h.request('identity-resolution', 'GET', location)).json();
        return job.state === 'running' ? undefined : job;
      }, { what: 'the rebuild to end', timeoutMs: 120_000 });
    };
    const done = await follow(await rebuild());
    const [{ records, keys }] = await h.query('identity-resolution',
      `SELECT count(DISTINCT r.record_id)::int AS records, count(k.key)::int AS keys FROM empi_record r JOIN empi_key k USING (record_id) WHERE r.source_system = 'LAB-X'`);
    const [{ stored }] = await h.query('identity-resolution', 'SELECT count(*)::int AS stored FROM empi_record');
    assert.ok(records === stored && stored > 300, `every stored record is keyed (${records} of ${stored})`);
    assert.deepEqual([done.state, done.error], ['done', null]);
    assert.deepEqual(done.progress, { records: stored, rekeyed: stored, keysAdded: keys, keysRemoved: 0, skipped: 0, pages: 1 });
    const second = await follow(await rebuild());
    assert.deepEqual(second.progress, { records: stored, rekeyed: 0, keysAdded: 0, keysRemoved: 0, skipped: 0, pages: 1 });
    assert.equal((await h.request('identity-resolution', 'GET', `/v1/admin/identity/blocking-keys/rebuilds/${done.id}`, undefined, {}, reader)).status, 403);
    const listed = await h.request('identity-resolution', 'GET', '/v1/admin/identity/blocking-keys/rebuilds');
    assert.equal(listed.status, 200, listed.text);
    assert.deepEqual(listed.json().jobs.map((j: { id: string; state: string }) => [j.id, j.state]), [[second.id, 'done'], [done.id, 'done']]);
    assert.equal((await h.request('identity-resolution', 'GET', '/v1/admin/identity/blocking-keys/rebuilds', undefined, {}, reader)).status, 403);
    const unknown = await h.request('identity-resolution', 'GET', '/v1/admin/identity/blocking-keys/rebuilds/no-such-job');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json().code, 'IDENTITY.KEY_REBUILD.NOT_FOUND');
    const audit = await h.query('identity-resolution', `SELECT outcome, details->>'job' AS job FROM cm_audit WHERE action = 'rebuild-blocking-keys' ORDER BY seq`);
    assert.deepEqual(audit.map((a) => `${a.outcome}:${a.job}`), [`allowed:${done.id}`, `allowed:${second.id}`]);
    // The job audits how it ended just after its row says so: wait for the second entry.
    const ended = await waitFor(async () => {
      const rows = await h.query('identity-resolution', `SELECT details->>'job' AS job, details->>'state' AS state, (details->>'rekeyed')::int AS rekeyed FROM cm_audit WHERE action = 'blocking-key-rebuild-ended' ORDER BY seq`);
      return rows.length >= 2 ? rows : undefined;
    }, { what: 'both jobs\' ends in the audit trail' });
    assert.deepEqual(ended.map((a) => [a.job, a.state, a.rekeyed]), [[done.id, 'done', stored], [second.id, 'done', 0]], 'how each job ended is audited');
  });
});
