import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BasicAuthGuard, parseBasicAuthSetting } from './basic-auth.guard';
import { matchRoute, parseVersionSpec, Route } from './registry.routes';

const header = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('BasicAuthGuard', () => {
  const guard = new BasicAuthGuard({ username: 'registry', password: 's3cret:with:colons' });
  it('accepts the configured credentials', () => assert.equal(guard.accepts(header('registry', 's3cret:with:colons')), true));
  it('rejects wrong password, wrong user, missing and malformed headers', () => {
    assert.equal(guard.accepts(header('registry', 'wrong')), false);
    assert.equal(guard.accepts(header('other', 's3cret:with:colons')), false);
    assert.equal(guard.accepts(undefined), false);
    assert.equal(guard.accepts('Bearer abc'), false);
    assert.equal(guard.accepts(`Basic ${Buffer.from('no-colon').toString('base64')}`), false);
  });
  it('parses user:password settings', () => {
    assert.deepEqual(parseBasicAuthSetting('u:p:q'), { username: 'u', password: 'p:q' });
    assert.throws(() => parseBasicAuthSetting('nopassword'));
    assert.throws(() => parseBasicAuthSetting(':p'));
  });
});

describe('registry routing', () => {
  const noop = async () => ({ body: {} });
  const routes: Route[] = [
    { method: 'GET', path: '/subjects/:subject/versions/:version', handle: noop },
    { method: 'POST', path: '/subjects/:subject', handle: noop },
    { method: 'GET', path: '/', handle: noop },
  ];
  it('decodes parameters after splitting, so subjects may contain encoded slashes', () => {
    const match = matchRoute(routes, 'GET', '/subjects/a%2Fb-value/versions/latest');
    assert.equal(match.kind, 'found');
    if (match.kind === 'found') assert.deepEqual(match.params, { subject: 'a/b-value', version: 'latest' });
  });
  it('distinguishes unknown paths from wrong methods', () => {
    assert.equal(matchRoute(routes, 'DELETE', '/subjects/x').kind, 'method-not-allowed');
    assert.equal(matchRoute(routes, 'GET', '/nope').kind, 'not-found');
    assert.equal(matchRoute(routes, 'GET', '/').kind, 'found');
  });
  it('parses version selectors as Confluent does', () => {
    assert.equal(parseVersionSpec('latest'), 'latest');
    assert.equal(parseVersionSpec('-1'), 'latest');
    assert.equal(parseVersionSpec('3'), 3);
    for (const bad of ['0', '-2', 'abc', '2147483648', '1.5']) assert.throws(() => parseVersionSpec(bad), /42202|not a valid version/);
  });
});
