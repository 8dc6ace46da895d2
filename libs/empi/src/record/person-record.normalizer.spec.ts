import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidPersonRecordError } from '../empi.errors';
import { normalizeBirthDate, normalizeName, normalizeRecord, normalizeText } from './person-record.normalizer';

describe('normalisation', () => {
  it('folds case, diacritics, punctuation and whitespace', () => {
    assert.equal(normalizeText('  Zoë   Ñúñez-Smith. '), 'zoe nunez smith');
    assert.equal(normalizeName("O'Brien"), 'obrien');
    assert.equal(normalizeName('van der Berg'), 'vanderberg');
    assert.equal(normalizeText('   '), undefined);
  });

  it('parses full and partial dates of birth', () => {
    assert.deepEqual(normalizeBirthDate('1980-03-07'), { year: '1980', month: '03', day: '07', compact: '19800307', precision: 'day' });
    assert.equal(normalizeBirthDate('19800307')?.compact, '19800307');
    assert.equal(normalizeBirthDate('1980-03')?.precision, 'month');
    assert.equal(normalizeBirthDate('1980')?.precision, 'year');
    assert.equal(normalizeBirthDate(''), undefined);
  });

  it('reads the date formats registration exports use, US month-first by default', () => {
    const compact = (v: string) => normalizeBirthDate(v)?.compact;
    assert.equal(compact('03/07/1980'), '19800307', 'US M/D/YYYY');
    assert.equal(compact('3/7/1980'), '19800307', 'unpadded');
    assert.equal(compact('03-07-1980'), '19800307', 'US with dashes');
    assert.equal(compact('31/12/1980'), '19801231', 'first part cannot be a month: day first');
    assert.equal(compact('07.03.1980'), '19800307', 'dotted: day first');
    assert.equal(compact('1980/3/7'), '19800307');
    assert.equal(compact('1980-03-07T00:00:00Z'), '19800307', 'a time part is ignored');
    assert.deepEqual(normalizeBirthDate('3/7/1980'), { year: '1980', month: '03', day: '07', compact: '19800307', precision: 'day' });
    // A keying error keeps its digits (no format matches), so a one-character comparison can still credit it.
    assert.equal(compact('198003071'), '198003071');
  });

  it('normalises a record: phone digits, identifiers, sex, city as suburb', () => {
    const n = normalizeRecord({
      recordId: 'a|b|1', givenName: 'JOSÉ', familyName: 'García', sex: 'Male', phone: '+61 (02) 9555-1234',
      identifiers: [{ system: 'SSA', value: '123-45-6789', type: 'ss' }], address: { city: 'St. Kilda', postcode: '3182 ' },
    });
    assert.equal(n.givenName, 'jose');
    assert.equal(n.familyName, 'garcia');
    assert.equal(n.sex, 'm');
    assert.equal(n.phone, '610295551234');
    assert.deepEqual(n.identifiers, [{ system: 'ssa', value: '123456789', type: 'SS' }]);
    assert.equal(n.suburb, 'st kilda');
    assert.equal(n.postcode, '3182');
    assert.ok(n.familyPhonetic?.metaphone);
  });

  it('rejects a record without recordId', () => {
    assert.throws(() => normalizeRecord({ recordId: ' ' }), (e: unknown) => e instanceof InvalidPersonRecordError && e.code === 'EMPI.RECORD.INVALID');
  });
});
