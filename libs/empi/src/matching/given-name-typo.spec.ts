import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { givenNamesTypoApart } from './given-name-typo';

describe('givenNamesTypoApart', () => {
  it('two typos of one name, or a name typed twice wrong, are one name keyed twice', () => {
    assert.equal(givenNamesTypoApart('yshane', 'sphane'), true, 'both one edit from shane');
    assert.equal(givenNamesTypoApart('heila', 'shweila'), true, 'both one edit from sheila');
    assert.equal(givenNamesTypoApart('mqnule', 'manuel'), true, 'a mangled name near no listed name, two edits from manuel');
  });

  it('real names, and a typo nearer another real name, stay different names', () => {
    assert.equal(givenNamesTypoApart('emma', 'ella'), false, 'two listed names');
    assert.equal(givenNamesTypoApart('jaden', 'jalen'), false);
    assert.equal(givenNamesTypoApart('davte', 'dale'), false, 'davte is one edit from dave, not from dale');
    assert.equal(givenNamesTypoApart('aan', 'aaron'), false, 'aan is one edit from ann, not from aaron');
    assert.equal(givenNamesTypoApart('shane', 'shane'), false, 'equal names are not a typo pair');
    assert.equal(givenNamesTypoApart('xqzvbk', 'shane'), false, 'more than two edits apart');
    assert.equal(givenNamesTypoApart(undefined, 'shane'), false);
  });
});
