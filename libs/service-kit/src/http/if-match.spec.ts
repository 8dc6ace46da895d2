import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ClinmeshError } from '@clinmesh/errors';
import { ifMatchTag, ifMatchVersion } from './if-match';

const status = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return [(e as ClinmeshError).status, (e as ClinmeshError).code];
  }
  return undefined;
};

describe('ifMatchVersion', () => {
  it('reads strong, weak and bare versions', () => {
    assert.equal(ifMatchVersion('"3"'), 3);
    assert.equal(ifMatchVersion('W/"12"'), 12);
    assert.equal(ifMatchVersion(' 7 '), 7);
  });
  it('answers 428 without the header and 412 for something that is not a version', () => {
    assert.deepEqual(status(() => ifMatchVersion(undefined)), [428, 'HTTP.PRECONDITION_REQUIRED']);
    assert.deepEqual(status(() => ifMatchVersion('')), [428, 'HTTP.PRECONDITION_REQUIRED']);
    assert.deepEqual(status(() => ifMatchVersion('"abc"')), [412, 'HTTP.PRECONDITION_FAILED']);
    assert.deepEqual(status(() => ifMatchVersion('*')), [412, 'HTTP.PRECONDITION_FAILED']);
  });
  it('throws the service\'s own errors when given', () => {
    const errors = { missing: () => new ClinmeshError('X.REQUIRED', 'm', { status: 428 }), malformed: (raw: string) => new ClinmeshError('X.BAD', raw, { status: 400 }) };
    assert.deepEqual(status(() => ifMatchVersion(undefined, errors)), [428, 'X.REQUIRED']);
    assert.throws(() => ifMatchVersion('v3', errors), (e: ClinmeshError) => e.code === 'X.BAD' && e.message === 'v3');
  });
});

describe('ifMatchTag', () => {
  it('strips the weak prefix and quotes of an opaque tag', () => {
    assert.equal(ifMatchTag('W/"2026-01"'), '2026-01');
    assert.equal(ifMatchTag('"a"'), 'a');
    assert.equal(ifMatchTag('a'), 'a');
    assert.equal(ifMatchTag(undefined), undefined);
  });
});
