import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseHl7Message } from '@clinmesh/hl7v2';
import { readHl7Demographics } from './hl7-demographics.reader';
import { SSN_SYSTEM } from './patient-demographics.model';

const FIXTURES = join(__dirname, '..', '..', '..', '..', '..', '..', 'shared', 'fixtures', 'hl7v2');
const read = (name: string) => readHl7Demographics(parseHl7Message(readFileSync(join(FIXTURES, name))));

describe('HL7 v2 demographics (real fixtures)', () => {
  it('reads PID-3 with authority and type, PID-5/7/8/11/13 and the SSN of ADT-A01-01', () => {
    const { patient, merges } = read('ADT-A01-01.hl7');
    assert.deepEqual(merges, []);
    assert.deepEqual(patient, {
      identifiers: [{ system: 'test1', value: 'PATID1234', type: 'MR' }, { system: SSN_SYSTEM, value: '123456789', type: 'SS' }],
      familyName: 'EVERYMAN', givenName: 'ADAM', middleName: 'A', birthDate: '1988-08-18', sex: 'M',
      address: { streetNumber: '1000', street: 'Hospital Lane', line2: 'Ste. 123', city: 'Ann Arbor', state: 'MI', postcode: '99999' },
      phone: '12121212',
    });
  });

  it('reads the structured XTN phone (area + local) and PID-19 SSN of ADT-A47-01, and its identifier-change directive', () => {
    const { patient, merges } = read('ADT-A47-01.hl7');
    assert.equal(patient?.phone, '2706009800');
    assert.deepEqual(patient?.identifiers, [{ system: 'GOOD HEALTH HOSPITAL', value: 'MR101', type: 'MR' }, { system: SSN_SYSTEM, value: '220917255', type: 'SS' }]);
    assert.equal(merges.length, 1);
    assert.equal(merges[0].kind, 'identifier-change');
    assert.deepEqual(merges[0].prior, { system: 'BCBS', value: 'MR102', type: 'MR' });
  });

  it('turns ADT^A40 MRG-1 into a merge directive whose survivor is the PID before it', () => {
    const { patient, merges } = read('ADT-A40-01.hl7');
    assert.deepEqual(patient?.identifiers, [{ system: 'BCBS', value: '12345', type: 'MR' }]);
    assert.equal(patient?.birthDate, '2018-02-05');
    assert.deepEqual(patient?.address, { streetNumber: '123', street: 'Any Street', city: 'Raleigh', state: 'NC', postcode: '27615' });
    assert.equal(patient?.phone, '1111111111');
    assert.equal(merges.length, 1);
    assert.deepEqual({ kind: merges[0].kind, trigger: merges[0].trigger, prior: merges[0].prior }, { kind: 'merge', trigger: 'A40', prior: { system: 'BCBS', value: '56789', type: 'MR' } });
    assert.deepEqual(merges[0].survivor.identifiers, patient?.identifiers);
  });

  it('gives ADT^A41 (merge account) no patient merge directive', () => {
    assert.deepEqual(read('ADT-A41-01.hl7').merges, []);
  });

  it('reads an ORU without assigning authority or type', () => {
    const { patient } = read('ORU-R01-RMGEAD.hl7');
    assert.deepEqual(patient?.identifiers, [{ system: '', value: '555-44-4444' }]);
    assert.equal(patient?.familyName, 'EVERYWOMAN');
    assert.equal(patient?.birthDate, '1962-03-20');
  });

  it('reads every fixture with a PID without throwing, and gives messages without PID no patient', () => {
    const { readdirSync } = require('node:fs') as typeof import('node:fs');
    let withPatient = 0;
    for (const f of readdirSync(FIXTURES).filter((n: string) => n.endsWith('.hl7'))) {
      const message = parseHl7Message(readFileSync(join(FIXTURES, f)));
      const d = readHl7Demographics(message);
      if (!message.segment('PID')) assert.equal(d.patient, undefined, f);
      if (d.patient) {
        withPatient++;
        assert.ok(d.patient.identifiers.length > 0, f);
        if (d.patient.birthDate) assert.match(d.patient.birthDate, /^\d{4}(-\d{2}(-\d{2})?)?$/, f);
      }
    }
    assert.ok(withPatient >= 50, `patients read from ${withPatient} fixtures`);
  });
});
