import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { COMPARISON_LEVELS, COMPARISON_NAMES, DEFAULT_MATCH_CONFIG, type ComparisonName } from './match-config.model';
import type { PersonRecord } from '../record/person-record.model';
import { normalizeBirthDate, normalizeRecord, phoneticCodes } from '../record/person-record.normalizer';
import {
  compareBirthDate, compareFamilyName, compareGivenName, compareIdentifiers, compareOneEdit, compareRecords, MISSING,
} from './record-comparison.comparator';

const label = (c: ComparisonName, level: number) => (level === MISSING ? 'missing' : (COMPARISON_LEVELS[c] as readonly string[])[level]);
const given = (a: string, b: string) => label('givenName', compareGivenName(a, b, phoneticCodes(a), phoneticCodes(b)));
const family = (a: string, b: string) => label('familyName', compareFamilyName(a, b, phoneticCodes(a), phoneticCodes(b)));
const dob = (a: string, b: string) => label('birthDate', compareBirthDate(normalizeBirthDate(a), normalizeBirthDate(b)));

describe('comparison levels', () => {
  it('given name: exact, nickname, JW ≥ 0.92, phonetic, JW ≥ 0.80, else', () => {
    assert.equal(given('william', 'william'), 'exact');
    assert.equal(given('william', 'bill'), 'nickname');
    assert.equal(given('jonathon', 'jonathan'), 'jw>=0.92');
    assert.equal(given('geoffrey', 'jeffery'), 'phonetic');
    assert.equal(given('sarah', 'sandra'), 'jw>=0.80');
    assert.equal(given('mary', 'zoltan'), 'else');
    assert.equal(compareGivenName(undefined, 'x'), MISSING);
  });

  it('given name: two different initials are not a typo of each other (one edit apart, yet two names)', () => {
    assert.equal(given('a', 't'), 'else');
    assert.equal(given('a', 'tammy'), 'else');
    assert.equal(given('t', 'tammy'), 'initial');
    // Between names, one edit is still a typo.
    assert.equal(given('jon', 'jan'), 'jw>=0.92');
    assert.equal(given('al', 'el'), 'jw>=0.92');
  });

  it('nicknames: the common US diminutives, and no two diminutives that are names of their own', () => {
    for (const [formal, nick] of [['ronald', 'ron'], ['kenneth', 'ken'], ['barbara', 'barb'], ['kimberly', 'kim'], ['donald', 'don'], ['sarah', 'sally'], ['elizabeth', 'betsy']]) {
      assert.equal(given(formal, nick), 'nickname', `${formal} / ${nick}`);
    }
    // Sadie is a name of her own: sisters Sadie and Sally are two given names.
    assert.notEqual(given('sadie', 'sally'), 'nickname');
    assert.notEqual(given('sadie', 'sarah'), 'nickname');
  });

  it('family name levels', () => {
    assert.equal(family('harrington', 'harrington'), 'exact');
    assert.equal(family('harrington', 'harringtn'), 'jw>=0.92');
    assert.equal(family('smith', 'smyth'), 'phonetic');
    assert.equal(family('morrison', 'nguyen'), 'else');
  });

  it('date of birth: exact, day/month swapped, one digit, year only, else', () => {
    assert.equal(dob('1980-03-07', '19800307'), 'exact');
    assert.equal(dob('1980-03-07', '1980-07-03'), 'day-month-swapped');
    assert.equal(dob('1980-03-07', '1980-03-08'), 'one-digit');
    assert.equal(dob('1980-03-07', '1980-11-25'), 'year-only');
    assert.equal(dob('1980', '1980-11-25'), 'year-only');
    assert.equal(dob('1980-03-07', '1955-11-25'), 'else');
    assert.equal(dob('', '1955-11-25'), 'missing');
  });

  it('postcode: exact / one digit off / else', () => {
    assert.equal(compareOneEdit('2615', '2615'), 0);
    assert.equal(compareOneEdit('2615', '2651'), 1);
    assert.equal(compareOneEdit('2615', '3000'), 2);
  });

  it('identifiers: exact, one digit, same last 4, only within one assigning authority', () => {
    const sel = DEFAULT_MATCH_CONFIG.comparedIdentifiers;
    const rec = (value: string, system = 'nat') => normalizeRecord({ recordId: value, identifiers: [{ system, value, type: 'NI' }] });
    assert.equal(compareIdentifiers(rec('1234567'), rec('1234567'), sel), 0);
    assert.equal(compareIdentifiers(rec('1234567'), rec('1234576'), sel), 1);
    assert.equal(compareIdentifiers(rec('9994567'), rec('1114567'), sel), 2);
    assert.equal(compareIdentifiers(rec('1234567'), rec('7654321'), sel), 3);
    assert.equal(compareIdentifiers(rec('1234567'), rec('1234567', 'other'), sel), MISSING);
  });

  it('transposed given/family names are compared crosswise', () => {
    const a = normalizeRecord({ recordId: 'a', givenName: 'sophie', familyName: 'snell' });
    const b = normalizeRecord({ recordId: 'b', givenName: 'snell', familyName: 'sophie' });
    const { vector, namesTransposed } = compareRecords(a, b, []);
    assert.ok(namesTransposed);
    assert.equal(vector[COMPARISON_NAMES.indexOf('givenName')], 0);
    assert.equal(vector[COMPARISON_NAMES.indexOf('familyName')], 0);
  });

  it('a swap and a typo in one record is read crosswise whichever record comes first, the typo in the given-name slot', () => {
    // "sgeldon, maria" is Maria Sheldon keyed with her names swapped and a typo in the surname.
    const ssn = (value: string) => [{ system: 'ssa', value, type: 'SS' }];
    const maria = normalizeRecord({ recordId: 'a', givenName: 'maria', familyName: 'sheldon', identifiers: ssn('359259708') });
    const swapped = normalizeRecord({ recordId: 'b', givenName: 'sgeldon', familyName: 'maria', identifiers: ssn('359259708') });
    const sel = DEFAULT_MATCH_CONFIG.comparedIdentifiers;
    for (const [a, b] of [[maria, swapped], [swapped, maria]]) {
      const { vector, namesTransposed, slots } = compareRecords(a, b, sel);
      assert.ok(namesTransposed, `${a.recordId} against ${b.recordId}`);
      assert.equal(label('givenName', vector[COMPARISON_NAMES.indexOf('givenName')]), 'jw>=0.92');
      assert.equal(label('familyName', vector[COMPARISON_NAMES.indexOf('familyName')]), 'exact');
      // The exact slot names the stored field that holds the agreeing value (term frequency reads it).
      assert.equal(b[slots.family], 'maria');
    }
    // The SSN the same, one crossed pair the same name, the other two typos apart ("molreno" / "morneo", Frank
    // Moreno both times): crosswise, whichever record comes first; without the SSN agreeing, read straight.
    const frank = normalizeRecord({ recordId: 'f', givenName: 'frank', familyName: 'morneo', identifiers: ssn('628636612') });
    const frankSwapped = normalizeRecord({ recordId: 'g', givenName: 'molreno', familyName: 'frank', identifiers: ssn('628636612') });
    for (const [a, b] of [[frank, frankSwapped], [frankSwapped, frank]]) {
      const { vector, namesTransposed, slots } = compareRecords(a, b, sel);
      assert.ok(namesTransposed, `${a.recordId} against ${b.recordId}`);
      assert.equal(label('givenName', vector[COMPARISON_NAMES.indexOf('givenName')]), 'exact');
      assert.equal(b[slots.given], 'frank');
      assert.notEqual(label('familyName', vector[COMPARISON_NAMES.indexOf('familyName')]), 'else');
    }
    const noSsn = normalizeRecord({ recordId: 'h', givenName: 'molreno', familyName: 'frank' });
    assert.equal(compareRecords(frank, noSsn, sel).namesTransposed, false);
    // Both SSNs present and different: the exact-and-typo reading does not apply (a twin's swapped record).
    const twin = normalizeRecord({ recordId: 'c', givenName: 'sgeldon', familyName: 'maria', identifiers: ssn('410772301') });
    assert.equal(compareRecords(maria, twin, sel).namesTransposed, false);
    // Both names altered as well as swapped: "guy, carrie" against "ctrrie, gu" (Carrie Guy twice), "joseph, rnald"
    // against "ronald, djoseph" (Ronald Joseph twice).
    for (const [x, y] of [[['guy', 'carrie'], ['ctrrie', 'gu']], [['joseph', 'rnald'], ['ronald', 'djoseph']]]) {
      const p = normalizeRecord({ recordId: 'p', givenName: x[0], familyName: x[1] });
      const q = normalizeRecord({ recordId: 'q', givenName: y[0], familyName: y[1] });
      assert.equal(compareRecords(p, q, []).namesTransposed, true, `${x} / ${y}`);
      assert.equal(compareRecords(q, p, []).namesTransposed, true, `${y} / ${x}`);
    }
    // A shared sound is not a typo: "taylor, juan" is not James Taylor's swapped record.
    const james = normalizeRecord({ recordId: 'd', givenName: 'james', familyName: 'taylor' });
    const juan = normalizeRecord({ recordId: 'e', givenName: 'taylor', familyName: 'juan' });
    assert.equal(compareRecords(juan, james, []).namesTransposed, false);
    assert.equal(compareRecords(james, juan, []).namesTransposed, false);
  });

  it('street is found on the other address line', () => {
    const addr = (street: string, line2: string): PersonRecord => ({ recordId: street, address: { street, line2 } });
    const { vector } = compareRecords(normalizeRecord(addr('woralul street', 'flt 68')), normalizeRecord(addr('flt 68', 'woralul street')), []);
    assert.equal(vector[COMPARISON_NAMES.indexOf('street')], 0);
    assert.equal(vector[COMPARISON_NAMES.indexOf('line2')], 0);
  });

  it('missing values give MISSING, never a disagreement', () => {
    const { vector } = compareRecords(normalizeRecord({ recordId: 'a', givenName: 'ann' }), normalizeRecord({ recordId: 'b', familyName: 'lee' }), []);
    assert.ok([...vector].every((v) => v === MISSING));
  });
});
