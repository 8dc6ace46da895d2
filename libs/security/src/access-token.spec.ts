import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import { AccessTokens } from './access-token';
import { sourcePatientKey } from './patient-key';

const SECRET = 'a'.repeat(40);

describe('access tokens', () => {
  it('carries subject, scopes and client id', async () => {
    const tokens = new AccessTokens(SECRET);
    const p = await tokens.verify(await tokens.issue('alice', ['tasks:read', 'metrics:read'], 60, 'worklist-ui'));
    assert.equal(p.subject, 'alice');
    assert.equal(p.clientId, 'worklist-ui');
    assert.deepEqual([...p.scopes].sort(), ['metrics:read', 'tasks:read']);
  });
  it('rejects a token signed with another secret, an expired token and garbage, as 401', async () => {
    const other = await new AccessTokens('b'.repeat(40)).issue('mallory', ['admin:operate']);
    const tokens = new AccessTokens(SECRET);
    await assert.rejects(tokens.verify(other), (e: { code: string; status: number }) => e.code === 'AUTH.TOKEN_INVALID' && e.status === 401);
    await assert.rejects(tokens.verify(await tokens.issue('bob', ['x'], -10)), (e: { code: string }) => e.code === 'AUTH.TOKEN_EXPIRED');
    await assert.rejects(tokens.verify('not.a.jwt'), (e: { code: string }) => e.code === 'AUTH.TOKEN_INVALID');
  });
  it('refuses unsigned (alg none) tokens', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const body = Buffer.from(JSON.stringify({ sub: 'x', scope: 'admin:operate', iss: 'clinmesh', aud: 'clinmesh-api', exp: Math.floor(Date.now() / 1000) + 60 })).toString('base64url');
    await assert.rejects(new AccessTokens(SECRET).verify(`${header}.${body}.`));
  });
  it('refuses tokens for another audience', async () => {
    const foreign = await new SignJWT({ scope: 'tasks:read' }).setProtectedHeader({ alg: 'HS256' }).setIssuer('clinmesh').setAudience('other').setSubject('x').setExpirationTime('1m').sign(new TextEncoder().encode(SECRET));
    await assert.rejects(new AccessTokens(SECRET).verify(foreign));
  });
  it('refuses a weak signing secret', () => {
    assert.throws(() => new AccessTokens('short'), /at least 32/);
  });
});

describe('source patient key', () => {
  it('is stable, opaque and secret-dependent (no PHI in Kafka keys)', () => {
    const k = sourcePatientKey('secret-one-0123456', 'HOSP', 'MRN123');
    assert.equal(k, sourcePatientKey('secret-one-0123456', ' hosp ', 'MRN123 '));
    assert.match(k, /^[0-9a-f]{32}$/);
    assert.ok(!k.includes('MRN123'));
    assert.notEqual(k, sourcePatientKey('secret-two-0123456', 'HOSP', 'MRN123'));
    assert.notEqual(k, sourcePatientKey('secret-one-0123456', 'OTHER', 'MRN123'));
  });
});
