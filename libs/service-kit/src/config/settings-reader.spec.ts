import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ClinmeshError } from '@clinmesh/errors';
import { SettingsReader } from './settings-reader';

const reader = (vars: Record<string, string>) => new SettingsReader('SVC', (name) => vars[name]);

describe('SettingsReader', () => {
  it('returns the fallback for unset or empty settings, and the parsed value otherwise', () => {
    const s = reader({ PORT: '2575', EMPTY: '', RATIO: '0.5', ON: 'true', OFF: 'yes', LIST: ' a, ,b ', DOC: '{"x":1}', NAME: 'n' });
    assert.equal(s.int('PORT', 1, { min: 0 }), 2575);
    assert.equal(s.int('EMPTY', 7, { min: 0 }), 7);
    assert.equal(s.int('UNSET', 8, { min: 0 }), 8);
    assert.equal(s.number('RATIO', 0.2, { min: 0 }), 0.5);
    assert.equal(s.flag('ON'), true);
    assert.equal(s.flag('OFF', true), false, 'anything but "true" is false once set');
    assert.equal(s.flag('UNSET', true), true);
    assert.deepEqual(s.list('LIST'), ['a', 'b']);
    assert.equal(s.list('UNSET'), undefined);
    assert.deepEqual(s.json('DOC'), { x: 1 });
    assert.equal(s.string('NAME', 'd'), 'n');
    assert.equal(s.string('EMPTY', 'd'), 'd');
    assert.deepEqual(s.problems, []);
    assert.doesNotThrow(() => s.assertValid('svc'));
  });

  it('collects every invalid setting with its variable name and keeps reading with the fallback', () => {
    const s = reader({ A: '-1', B: '1.5', C: 'x', D: '11', E: '{', F: '/nonexistent/clinmesh.pem' });
    assert.equal(s.int('A', 3, { min: 0 }), 3);
    assert.equal(s.int('B', 4, { min: 0 }), 4);
    assert.equal(s.number('C', 0.2, { min: 0 }), 0.2);
    assert.equal(s.int('D', 5, { min: 1, max: 10 }), 5);
    assert.equal(s.json('E'), undefined);
    assert.equal(s.file('F'), undefined);
    s.problem('SVC_G must be set with SVC_F');
    assert.throws(() => s.assertValid('svc'), (e: ClinmeshError) => {
      assert.equal(e.code, 'CONFIG.INVALID');
      assert.match(e.message, /^svc: invalid configuration:/);
      assert.ok(e.message.includes('SVC_A must be an integer ≥ 0 (got "-1")'), e.message);
      assert.ok(e.message.includes('SVC_B must be an integer ≥ 0'), e.message);
      assert.ok(e.message.includes('SVC_C must be a number ≥ 0'), e.message);
      assert.ok(e.message.includes('SVC_D must be an integer between 1 and 10 (got "11")'), e.message);
      for (const name of ['SVC_E is not JSON', 'SVC_F: cannot read', 'SVC_G']) assert.ok(e.message.includes(name), name);
      return true;
    });
  });
});
