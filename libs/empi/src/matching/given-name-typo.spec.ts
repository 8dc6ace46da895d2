import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { differentListedGivenNames, givenNamesExplained, twoListedGivenNames } from './given-name-typo';

describe('givenNamesExplained', () => {
  it('two typos of one name, or a name typed twice wrong, are one name keyed twice', () => {
    assert.equal(givenNamesExplained('yshane', 'sphane', 'jw>=0.80'), true, 'both one edit from shane');
    assert.equal(givenNamesExplained('heila', 'shweila', 'else'), true, 'both one edit from sheila');
    assert.equal(givenNamesExplained('mqnule', 'manuel', 'else'), true, 'a mangled name near no listed name, two edits from manuel');
  });

  it('a nickname keyed with a typo is the name it is a nickname of', () => {
    assert.equal(givenNamesExplained('ipat', 'patricia', 'else'), true, 'one edit from pat (Patricia)');
    assert.equal(givenNamesExplained('huck', 'charles', 'else'), true, 'one edit from chuck (Charles)');
    assert.equal(givenNamesExplained('bill', 'wiliam', 'else'), true, 'wiliam is one edit from william (Bill)');
    assert.equal(givenNamesExplained('ipam', 'patricia', 'else'), false, 'one edit from pam (Pamela), not a name of Patricia');
    assert.equal(givenNamesExplained('pam', 'patricia', 'else'), false, 'a real name stands for itself');
  });

  it('real names, and a typo nearer another real name, stay different names', () => {
    assert.equal(givenNamesExplained('jaden', 'jalen', 'else'), false, 'two listed names');
    assert.equal(givenNamesExplained('davte', 'dale', 'jw>=0.80'), false, 'davte is one edit from dave, not from dale');
    assert.equal(givenNamesExplained('aan', 'aaron', 'else'), false, 'aan is one edit from ann, not from aaron');
    assert.equal(givenNamesExplained('xqzvbk', 'shane', 'else'), false, 'more than two edits apart');
  });

  it('a metaphone agreement through an alternate code is no spelling variant when a typo plainly means another name', () => {
    assert.equal(givenNamesExplained('phillim', 'william', 'phonetic'), false, 'phillim is one edit from phillip');
    assert.equal(givenNamesExplained('ueoy', 'joe', 'phonetic'), false, 'a mangled name sharing only the alternate code A');
    assert.equal(givenNamesExplained('katherine', 'kathryn', 'phonetic'), true, 'two real spellings of one name (three edits, Jaro-Winkler 0.905)');
    assert.equal(givenNamesExplained('steven', 'stephen', 'phonetic'), true, 'two real spellings of one name (two edits)');
  });

  it('two real names sharing a primary code but not spelt alike are two names', () => {
    // Twins Jeanette and Juanita Shelton, Kristine and Krystal Simmons (second generator seeds 202, 2019) were one person.
    assert.equal(givenNamesExplained('jeanette', 'juanita', 'phonetic'), false);
    assert.equal(givenNamesExplained('kristine', 'krystal', 'phonetic'), false);
    assert.equal(givenNamesExplained('catherine', 'kathryn', 'phonetic'), false, 'three edits and Jaro-Winkler 0.76: an SSN or a reviewer decides');
  });

  it('two names of different nickname groups are two names, however alike', () => {
    // Twins Timmy and Tommy Coleman (TS generator seed 1016): one edit apart, level jw>=0.92, yet Timothy and Thomas.
    assert.equal(givenNamesExplained('timmy', 'tommy', 'jw>=0.92'), false);
    assert.equal(givenNamesExplained('tim', 'tom', 'jw>=0.80'), false);
    assert.equal(givenNamesExplained('shane', 'shan', 'jw>=0.92'), undefined, 'a name outside the table: the level decides');
  });

  it('leaves to the level what it decides: exact, nickname, initial, one edit, or a missing name', () => {
    assert.equal(givenNamesExplained('shane', 'shane', 'exact'), undefined);
    assert.equal(givenNamesExplained('shane', 'shan', 'jw>=0.92'), undefined);
    assert.equal(givenNamesExplained(undefined, 'shane', undefined), undefined);
  });

  it('differentListedGivenNames: two real names, not one name spelt two ways', () => {
    assert.equal(differentListedGivenNames('kayla', 'gayle'), true);
    assert.equal(differentListedGivenNames('ella', 'emma'), true, 'one edit apart but pronounced differently');
    assert.equal(differentListedGivenNames('briana', 'brianna'), false, 'one edit apart and pronounced alike');
    assert.equal(differentListedGivenNames('kayla', 'kalya'), false, 'a typo is no listed name');
    assert.equal(differentListedGivenNames('kayla', 'kayla'), false);
  });

  it('twoListedGivenNames: two real names, spellings of one name included', () => {
    assert.equal(twoListedGivenNames('karin', 'karen'), true, 'one name spelt two ways, both real names');
    assert.equal(twoListedGivenNames('kayla', 'gayle'), true);
    assert.equal(twoListedGivenNames('kayla', 'kalya'), false, 'a typo is no listed name');
    assert.equal(twoListedGivenNames('kayla', 'kayla'), false);
  });
});
