import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readFhirDemographics } from './fhir-demographics.reader';
import { extractMessageDemographics } from './message-demographics.extractor';
import { SSN_SYSTEM } from './patient-demographics.model';

const SHARED = join(__dirname, '..', '..', '..', '..', '..', '..', 'shared', 'fixtures');
const bundle = (name: string) => JSON.parse(readFileSync(join(SHARED, 'hl7v2-fhir-expected', name), 'utf8').replace(/^\uFEFF/, ''));

describe('FHIR R4 demographics', () => {
  it('reads the Patient of a real Bundle (converter output for ADT-A01-01)', () => {
    const { patient, merges } = readFhirDemographics(bundle('ADT-A01-01.json'));
    assert.deepEqual(merges, []);
    assert.ok(patient);
    assert.deepEqual(patient.identifiers[0], { system: 'http://example.com/v2-to-fhir-converter/Identifier/test', value: '1234567', type: 'MR' });
    assert.ok(patient.identifiers.some((i) => i.system === SSN_SYSTEM && i.value === '123456789' && i.type === 'SS'));
    assert.equal(patient.birthDate, '1988-08-18');
    assert.equal(patient.sex, 'male');
    assert.deepEqual(patient.address, { streetNumber: '1000', street: 'Hospital Lane', line2: 'Ste. 123', city: 'Ann Arbor', state: 'MI', postcode: '99999' });
  });

  it('reads a single Patient resource (official name, phone, address line split)', () => {
    const { patient } = readFhirDemographics({
      resourceType: 'Patient', id: 'p1',
      identifier: [{ system: 'urn:oid:1.2.3', value: 'A-77', type: { coding: [{ code: 'MR' }] } }],
      name: [{ use: 'nickname', given: ['Bill'] }, { use: 'official', family: 'Hartley', given: ['William', 'James'] }],
      birthDate: '1971-02-03', gender: 'male',
      address: [{ line: ['12 Short Road'], city: 'Dubbo', postalCode: '2830', state: 'NSW' }],
      telecom: [{ system: 'email', value: 'x@y' }, { system: 'phone', value: '+61 2 5550 1234' }],
    });
    assert.deepEqual(patient, {
      identifiers: [{ system: 'urn:oid:1.2.3', value: 'A-77', type: 'MR' }],
      familyName: 'Hartley', givenName: 'William', middleName: 'James', birthDate: '1971-02-03', sex: 'male',
      address: { streetNumber: '12', street: 'Short Road', city: 'Dubbo', state: 'NSW', postcode: '2830' }, phone: '61255501234',
    });
  });

  it('reads the Patient entry of the fhir-r4 ObservationBundle fixture', () => {
    const { patient } = readFhirDemographics(JSON.parse(readFileSync(join(SHARED, 'fhir-r4', 'ObservationBundle.json'), 'utf8').replace(/^\uFEFF/, '')));
    assert.deepEqual(patient, {
      identifiers: [{ system: 'urn:oid:1.2.36.146.595.217.0.1', value: '12345', type: 'MR' }],
      familyName: 'Chalmers', givenName: 'Peter', middleName: 'James', birthDate: '1974-12-25', sex: 'male',
      address: { streetNumber: '534', street: 'Erewhon St', city: 'PleasantVille', state: 'Vic', postcode: '3999' }, phone: '0355556473',
    });
  });

  it('has no patient for a Bundle without Patient or a Patient without identifiers', () => {
    assert.equal(readFhirDemographics({ resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Observation' } }] }).patient, undefined);
    assert.equal(readFhirDemographics({ resourceType: 'Patient', name: [{ family: 'X' }] }).patient, undefined);
  });

  it('extracts from raw bytes by format (BOM tolerated), and yields nothing for unreadable bytes', () => {
    const raw = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify({ resourceType: 'Patient', identifier: [{ system: 's', value: 'v' }] }))]);
    assert.deepEqual(extractMessageDemographics('FHIR_R4', raw).patient?.identifiers, [{ system: 's', value: 'v' }]);
    assert.deepEqual(extractMessageDemographics('FHIR_R4', Buffer.from('{not json')), { merges: [] });
    assert.deepEqual(extractMessageDemographics('HL7V2', Buffer.from('garbage')), { merges: [] });
  });
});
