import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mapToCanonical } from './canonical.mapper';
import { TerminologyMaps, parseTerminologyMapData } from './terminology/terminology-map';
import { DEFAULT_TERMINOLOGY } from './index';
import { fhirTime, hl7Time } from './time/clinical-time';
import { alternateQuantities, quantity, toUcum } from './units/ucum-units';

const terminology = new TerminologyMaps(DEFAULT_TERMINOLOGY);
const oru = (controlId: string, obx: string) => [
  `MSH|^~\\&|LABSYS|LAB|EHR|H|20240301101500||ORU^R01|${controlId}|P|2.5.1`,
  'PID|1||MRN-1^^^HOSP^MR||DOE^JANE^Q||19800102|F|||1 MAIN ST^^SPRINGFIELD^IL^62701',
  'OBR|1|PL-9^EHR|FL-9^LAB|GLU^Glucose^L|||20240301093000',
  obx,
].join('\r');
const map = (raw: string, tz: string | null = 'America/Chicago', t = terminology) =>
  mapToCanonical({ format: 'HL7V2', raw, messageType: 'ORU^R01', messageId: 'm', sourceSystem: 'LABSYS', sourceFacility: 'LAB', epid: 'EP-1' }, { terminology: t, senderTimeZone: tz });

describe('times', () => {
  it('keeps the source offset, the precision and the UTC instant', () => {
    const t = hl7Time('20150624084727.655-0500', null)!;
    assert.equal(new Date(t.instant!).toISOString(), '2015-06-24T13:47:27.655Z');
    assert.deepEqual([t.offset, t.precision, t.offsetSource], ['-05:00', 'MILLISECOND', 'SOURCE']);
  });
  it('resolves a missing offset with the sender time zone (DST aware) and marks it', () => {
    const summer = hl7Time('202407011200', 'America/Chicago')!;
    const winter = fhirTime('2024-01-15T12:00:00', 'America/Chicago')!;
    assert.equal(new Date(summer.instant!).toISOString(), '2024-07-01T17:00:00.000Z');
    assert.equal(summer.offset, '-05:00');
    assert.equal(summer.offsetSource, 'SENDER_TIME_ZONE');
    assert.equal(new Date(winter.instant!).toISOString(), '2024-01-15T18:00:00.000Z');
    assert.equal(hl7Time('202407011200', null)!.instant, null, 'no zone configured: no invented instant');
  });
  it('never shifts a date', () => {
    assert.deepEqual(hl7Time('19800102', 'Asia/Tokyo'), { instant: null, original: '19800102', offset: null, precision: 'DAY', offsetSource: 'NONE', date: '1980-01-02' });
  });
});

describe('units (UCUM via @lhncbc/ucum-lhc)', () => {
  it('normalises spellings and converts glucose mg/dL ↔ mmol/L', () => {
    assert.equal(toUcum('mg/dl'), 'mg/dL');
    assert.equal(toUcum('furlongs per fortnight'), null);
    const [mmol] = alternateQuantities(['2345-7'], quantity(182, 'mg/dl'));
    assert.deepEqual(mmol, { value: 10.1, comparator: null, unit: 'mmol/L', ucum: 'mmol/L' });
    const [mg] = alternateQuantities(['2345-7'], quantity(5.5, 'mmol/L'));
    assert.equal(mg.value, 99.09);
  });
});

describe('HL7 v2 results', () => {
  it('maps a local code through the terminology map, keeps range, interpretation, unit and times', () => {
    const m = map(oru('C1', 'OBX|1|NM|GLU^Glucose^L||182|mg/dl|70-105|H|||F|||20240301093000'));
    const obs = m.records.observations[0];
    assert.equal(obs.code.codings[0].system, 'http://loinc.org');
    assert.equal(obs.code.codings[0].code, '2345-7');
    assert.equal(obs.code.codings[0].mapping, 'MAPPED');
    assert.deepEqual([obs.valueQuantity!.value, obs.valueQuantity!.ucum], [182, 'mg/dL']);
    assert.deepEqual(obs.referenceRange, { low: 70, high: 105, text: '70-105' });
    assert.equal(obs.interpretation[0].code, 'H');
    assert.equal(obs.convertedValues[0].unit, 'mmol/L');
    assert.equal(new Date(obs.effective!.instant!).toISOString(), '2024-03-01T15:30:00.000Z');
    assert.equal(obs.provenance.messageId, 'm');
    assert.ok(obs.provenance.sourceFields.includes('OBX-3'));
    assert.equal(m.primary!.type, 'DiagnosticReport');
  });

  it('keeps an unmappable local code, flagged with its reason, and reports it', () => {
    const m = map(oru('C2', 'OBX|1|NM|XYZ123^Mystery^LOCAL||1|mg/dL|||||F'));
    const coding = m.records.observations[0].code.codings[0];
    assert.deepEqual([coding.code, coding.unmapped, coding.unmappedReason], ['XYZ123', true, 'NO_MAP_ENTRY']);
    assert.equal(m.unmappedCodes.length, 1);
    assert.equal(m.unmappedCodes[0].element, 'Observation.code');
  });

  it('a corrected result (OBX-11 = C) replaces the earlier one under the same canonical id, marked as a correction', () => {
    const first = map(oru('C3', 'OBX|1|NM|2345-7^Glucose^LN||182|mg/dL|||||F')).records.observations[0];
    const corrected = map(oru('C4', 'OBX|1|NM|2345-7^Glucose^LN||118|mg/dL|||||C')).records.observations[0];
    assert.equal(corrected.id, first.id);
    assert.deepEqual([corrected.correction, corrected.changeType, corrected.status], [true, 'UPDATE', 'corrected']);
    assert.equal(first.correction, false);
  });

  it('a terminology map change maps the code on the next run, same canonical id', () => {
    const raw = oru('C5', 'OBX|1|NM|ZZ9^Local thing^LOCAL||1|mg/dL|||||F');
    const before = map(raw);
    const data = JSON.parse(JSON.stringify(DEFAULT_TERMINOLOGY));
    data.sources.LABSYS = { LOCAL: { ZZ9: { system: 'http://loinc.org', code: '1234-5' } } };
    const after = map(raw, 'America/Chicago', new TerminologyMaps(parseTerminologyMapData(data)));
    assert.equal(after.records.observations[0].id, before.records.observations[0].id);
    assert.equal(after.records.observations[0].code.codings[0].code, '1234-5');
    assert.equal(after.unmappedCodes.length, 0);
  });

  it('an unparseable message is not a failure: no records, one issue', () => {
    const m = map('MSH|...');
    assert.equal(m.primary, null);
    assert.equal(m.issues[0].code, 'MESSAGE.UNPARSEABLE');
  });
});

describe('FHIR R4', () => {
  it('maps a Bundle: references resolve, amended status is a correction, patient id follows the EPID', () => {
    const bundle = {
      resourceType: 'Bundle', type: 'collection', entry: [
        { fullUrl: 'urn:uuid:p1', resource: { resourceType: 'Patient', id: 'p1', name: [{ family: 'Doe', given: ['Jane'] }], gender: 'female', birthDate: '1980-01-02' } },
        { resource: { resourceType: 'Observation', id: 'o1', status: 'amended', subject: { reference: 'urn:uuid:p1' }, code: { coding: [{ system: 'http://loinc.org', code: '2345-7' }] },
          valueQuantity: { value: 7, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' }, effectiveDateTime: '2024-03-01T09:30:00+01:00' } },
      ],
    };
    const m = mapToCanonical({ format: 'FHIR_R4', raw: JSON.stringify(bundle), messageType: 'Bundle', messageId: 'b1', sourceSystem: 'app', sourceFacility: '', epid: 'EP-9' }, { terminology, senderTimeZone: null });
    const [p] = m.records.patients;
    const [o] = m.records.observations;
    assert.equal(o.patientId, p.id);
    assert.deepEqual([o.correction, o.changeType], [true, 'UPDATE']);
    assert.equal(new Date(o.effective!.instant!).toISOString(), '2024-03-01T08:30:00.000Z');
    assert.equal(o.convertedValues[0].unit, 'mg/dL');
    assert.equal(m.primary!.type, 'Observation');
  });
});

describe('confidentiality the source sent (message security labels)', () => {
  const obx = 'OBX|1|NM|GLU^Glucose^L||182|mg/dL|70-99|H|||F|||20240301093000';
  const withSegments = (...segments: string[]) => {
    const [msh, pid, ...rest] = oru('SEC-1', obx).split('\r');
    return [msh, pid, ...segments, ...rest].join('\r');
  };

  it('HL7 v2: PD1-12 protection indicator Y is R; ARV-3 keeps HIV/PSY/STD, DEM/LOC as DEMO/LOCIS (as the FHIR-Converter reference), ALL/SMD are R, NO and removals add nothing', () => {
    assert.deepEqual(map(oru('SEC-0', obx)).securityLabels, []);
    assert.deepEqual(map(withSegments('PD1||||||||||||Y')).securityLabels, ['R']);
    assert.deepEqual(map(withSegments('PD1||||||||||||N')).securityLabels, []);
    assert.deepEqual(map(withSegments('ARV|1|A|PSY^Psychiatric^HL70717~HIV^HIV^HL70717|DIA')).securityLabels, ['HIV', 'PSY']);
    assert.deepEqual(map(withSegments('ARV|1|A|SMD^Sensitive medical data^HL70717')).securityLabels, ['R']);
    assert.deepEqual(map(withSegments('ARV|1|A|NO^None^HL70717')).securityLabels, []);
    assert.deepEqual(map(withSegments('ARV|1|A|DEM|PAT|restricted', 'ARV|2|X|LOC|PHY|no location')).securityLabels, ['DEMO', 'LOCIS']);
    assert.deepEqual(map(withSegments('ARV|1|D|STD^STD^HL70717')).securityLabels, [], 'an ARV deleting a restriction labels nothing');
  });

  it('FHIR: meta.security of the bundle and its resources, confidentiality and sensitivity codings only', () => {
    const bundle = {
      resourceType: 'Bundle', type: 'collection', meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }] },
      entry: [
        { resource: { resourceType: 'Patient', id: 'p1', name: [{ family: 'DOE' }] } },
        { resource: {
          resourceType: 'Observation', id: 'o1', status: 'final', subject: { reference: 'Patient/p1' }, code: { coding: [{ system: 'http://loinc.org', code: '2345-7' }] },
          meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'PSY' }, { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'HTEST' }] },
        } },
      ],
    };
    const m = mapToCanonical({ format: 'FHIR_R4', raw: JSON.stringify(bundle), messageType: 'Bundle', messageId: 'b-sec', sourceSystem: 'app', sourceFacility: '', epid: 'EP-9' }, { terminology, senderTimeZone: null });
    assert.deepEqual(m.securityLabels, ['PSY', 'R'], 'an integrity label (HTEST) is not a confidentiality claim');
  });
});
