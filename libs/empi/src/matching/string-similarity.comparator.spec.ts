import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { phoneticCodes } from '../record/person-record.normalizer';
import { jaroWinklerSimilarity, phoneticAgree, withinOneEdit } from './string-similarity.comparator';

describe('string comparators', () => {
  it('Jaro-Winkler matches the textbook values', () => {
    assert.equal(jaroWinklerSimilarity('martha', 'martha'), 1);
    assert.ok(Math.abs(jaroWinklerSimilarity('martha', 'marhta') - 0.9611) < 1e-3);
    assert.ok(Math.abs(jaroWinklerSimilarity('dwayne', 'duane') - 0.84) < 1e-2);
    assert.equal(jaroWinklerSimilarity('', 'abc'), 0);
  });

  it('withinOneEdit accepts one substitution, insertion, deletion or adjacent transposition', () => {
    assert.ok(withinOneEdit('19800101', '19800101'));
    assert.ok(withinOneEdit('19800101', '19800701'));
    assert.ok(withinOneEdit('19800101', '1980101'));
    assert.ok(withinOneEdit('2615', '26155'));
    assert.ok(withinOneEdit('8638391', '8368391'));
    assert.ok(!withinOneEdit('2615', '2651x'));
    assert.ok(!withinOneEdit('19800101', '19811101'));
    assert.ok(!withinOneEdit('abc', 'cba'));
  });

  it('phonetic agreement via double metaphone or NYSIIS', () => {
    assert.ok(phoneticAgree(phoneticCodes('smith'), phoneticCodes('smyth')));
    assert.ok(phoneticAgree(phoneticCodes('catherine'), phoneticCodes('kathryn')));
    assert.ok(!phoneticAgree(phoneticCodes('smith'), phoneticCodes('jones')));
    assert.ok(!phoneticAgree(undefined, phoneticCodes('jones')));
  });
});
