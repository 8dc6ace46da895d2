import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SecretBox } from './secret-box';

describe('SecretBox', () => {
  it('opens what it sealed, again and again; another key cannot', () => {
    const box = new SecretBox('key-material-from-configuration');
    const sealed = box.seal('whsec_first');
    assert.notEqual(sealed.includes('whsec_first'), true, 'never in clear');
    assert.equal(box.open(sealed), 'whsec_first');
    assert.equal(box.open(sealed), 'whsec_first', 'kept after the first open');
    assert.equal(box.open(box.seal('whsec_second')), 'whsec_second', 'a rotated secret is a new sealed text');
    assert.throws(() => new SecretBox('other-key-material').open(sealed));
  });

  it('a sealed text that does not authenticate fails every time (a failure is never kept)', () => {
    const box = new SecretBox('key-material-from-configuration');
    const [v, iv, tag, data] = box.seal('whsec_first').split('.');
    const flipped = Buffer.from(data, 'base64');
    flipped[0] ^= 1;
    const tampered = [v, iv, tag, flipped.toString('base64')].join('.');
    assert.throws(() => box.open(tampered));
    assert.throws(() => box.open(tampered));
  });
});
