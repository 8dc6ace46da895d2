import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mapToCanonical } from '../canonical.mapper';
import { TerminologyMaps } from '../terminology/terminology-map';
import { DEFAULT_TERMINOLOGY } from '../index';

const terminology = new TerminologyMaps(DEFAULT_TERMINOLOGY);
const map = (lines: string[], messageType: string) => mapToCanonical(
  { format: 'HL7V2', raw: lines.join('\r'), messageType, messageId: 'M1', sourceSystem: 'SENDER', sourceFacility: 'FAC', epid: '' },
  { terminology, senderTimeZone: null },
);
const iso = (ms: number | null | undefined) => (ms == null ? null : new Date(ms).toISOString());
const PID = 'PID|1||MRN-7^^^HOSP^MR||ROE^ANNA^B||19750304|F';

describe('segments that carry clinical facts', () => {
  it('SIU^S12 with its start only in SCH-11 (TQ, no TQ1): start 19:00Z and the end from SCH-11.5', () => {
    const m = map([
      'MSH|^~\\&|SCHED|HOSP|RCV|FAC|20261120120000||SIU^S12|M1|P|2.5.1',
      'SCH|A-1^SCHED|F-1^SCHED|||||FOLLOWUP^Follow-up||||^^30^20261125140000-0500^20261125143000-0500^R|||||||||||||Booked',
      PID, 'RGS|1', 'AIS|1||CONSULT^Consultation^L',
    ], 'SIU^S12');
    const a = m.records.appointments[0];
    assert.equal(iso(a.start?.instant), '2026-11-25T19:00:00.000Z');
    assert.equal(iso(a.end?.instant), '2026-11-25T19:30:00.000Z');
    assert.ok(a.provenance.sourceFields.includes('SCH-11.4'));
  });

  it('SIU with SCH-11 start and a TQ duration only: the end is start + duration', () => {
    const m = map([
      'MSH|^~\\&|SCHED|HOSP|RCV|FAC|20261120120000||SIU^S12|M1|P|2.5.1',
      'SCH|A-2^SCHED||||||||||^^M45^20261125140000-0500',
      PID,
    ], 'SIU^S12');
    const a = m.records.appointments[0];
    assert.equal(iso(a.start?.instant), '2026-11-25T19:00:00.000Z');
    assert.equal(iso(a.end?.instant), '2026-11-25T19:45:00.000Z');
    assert.equal(a.durationMinutes, 45);
  });

  it('VXU: the OBX segments after an RXA become observations linked to that immunisation', () => {
    const m = map([
      'MSH|^~\\&|EHR|CLINIC|IIS|STATE|20261120120000||VXU^V04^VXU_V04|M1|P|2.5.1',
      PID,
      'ORC|RE||IMM-1^EHR',
      'RXA|0|1|20261101||08^HepB^CVX|0.5|mL^mL^UCUM||00^New^NIP001||||||LOT9||MSD^Merck^MVX|||CP|A',
      'RXR|C28161^Intramuscular^NCIT|LA^Left arm^HL70163',
      'OBX|1|CE|64994-7^Vaccine funding program eligibility^LN|1|V02^VFC eligible - Medicaid^HL70064||||||F|||20261101',
      'OBX|2|DT|29769-7^Date VIS presented^LN|2|20261101||||||F|||20261101',
      'ORC|RE||IMM-2^EHR',
      'RXA|0|1|20261101||20^DTaP^CVX|0.5|mL^mL^UCUM',
      'OBX|1|CE|30963-3^Vaccine funding source^LN|1|PHC70^Private^CDCPHINVS||||||F',
    ], 'VXU^V04');
    const [hepB, dtap] = m.records.immunizations;
    assert.equal(m.records.immunizations.length, 2);
    const obs = m.records.observations;
    assert.deepEqual(obs.map((o) => o.code.codings[0].code), ['64994-7', '29769-7', '30963-3']);
    assert.deepEqual(obs.map((o) => o.partOfId), [hepB.id, hepB.id, dtap.id]);
    assert.ok(obs.every((o) => o.partOfType === 'Immunization' && o.patientId === hepB.patientId));
    assert.equal(obs[0].valueCode?.codings[0].code, 'V02');
    assert.equal(obs[1].valueTime?.date ?? obs[1].valueTime?.original, '2026-11-01');
    assert.ok(obs[0].provenance.sourceFields.includes('OBX-3'));
  });

  it('OBX in BAR, REF, DFT and RDE become observations; PR1 → Procedure, IN1/IN2 → Coverage, AL1, DG1, ACC → records', () => {
    const m = map([
      'MSH|^~\\&|ADT|HOSP|FIN|FAC|20261120120000||BAR^P01|M1|P|2.5.1',
      'EVN|P01|20261120120000', PID,
      'PV1|1|I|W1^101^A||||||||||||||||V-9^^^HOSP^VN|||||||||||||||||||||||||20261119080000+0000',
      'PV2||||||||20261119080000+0000|20261122080000+0000',
      'OBX|1|NM|8867-4^Heart rate^LN||72|/min^^UCUM|||||F|||20261119090000+0000',
      'AL1|1|DA|70618^Penicillin^RXNORM|SV|hives',
      'DG1|1||J18.9^Pneumonia^I10|||A',
      'PR1|1||0BH17EZ^Insertion of endotracheal tube^ICD10PCS||20261119100000+0000|||||||',
      'IN1|1|PLAN-A^Gold plan|PAYER-1^^^PAYERS|Payer Inc||||GRP-7||||20260101|20261231|||||||||||||||||||||||POL-123',
      'IN2|1|||||MCR-555',
    ], 'BAR^P01');
    const r = m.records;
    assert.equal(r.observations.find((o) => o.code.codings[0].code === '8867-4')?.valueQuantity?.value, 72);
    assert.equal(r.allergies[0].code.codings[0].code, '70618');
    assert.equal(r.conditions[0].code.codings[0].code, 'J18.9');
    assert.equal(r.procedures[0].code.codings[0].code, '0BH17EZ');
    assert.equal(iso(r.procedures[0].performed?.instant), '2026-11-19T10:00:00.000Z');
    assert.equal(r.procedures[0].encounterId, r.encounters[0].id);
    assert.equal(r.coverages[0].payor, 'PAYER-1');
    assert.deepEqual(r.coverages[0].identifiers.map((i) => `${i.type}:${i.value}`), ['POLICY:POL-123', 'MEDICARE:MCR-555']);
    assert.ok(!r.patients[0].identifiers.some((i) => i.value === 'MCR-555'), 'payer numbers stay off the patient');
    assert.equal(iso(r.encounters[0].expectedPeriod?.end?.instant), '2026-11-22T08:00:00.000Z');
    assert.equal(r.encounters[0].period.end, null, 'an expected discharge is not an actual one');

    const ref = map([
      'MSH|^~\\&|REFER|CLINIC|RCV|FAC|20261120120000||REF^I12|M2|P|2.5.1',
      'RF1|A^Accepted|R^Routine|CARD^Cardiology^L||||20261120||||',
      PID,
      'DG1|1||I48.91^Atrial fibrillation^I10',
      'ACC|20261101080000+0000|MV^Motor vehicle accident^HL70050|Highway 1',
      'OBX|1|ST|22310-7^H pylori Ab^LN||Positive|||A|||F|||20261115',
    ], 'REF^I12');
    assert.equal(ref.records.serviceRequests[0].category, 'REFERRAL');
    assert.equal(ref.records.conditions[0].code.codings[0].code, 'I48.91', 'DG1 in a REF is a condition as well as a reason');
    assert.equal(ref.records.serviceRequests[0].reasons[0].codings[0].code, 'I48.91');
    const hp = ref.records.observations.find((o) => o.code.codings[0].code === '22310-7');
    assert.equal(hp?.valueString, 'Positive');
    const accident = ref.records.observations.find((o) => o.code.codings[0].code === 'injury-incident');
    assert.equal(accident?.valueCode?.codings[0].code, 'MV');
    assert.equal(iso(accident?.effective?.instant), '2026-11-01T08:00:00.000Z');

    const dft = map([
      'MSH|^~\\&|FIN|HOSP|RCV|FAC|20261120120000||DFT^P03|M3|P|2.5.1', 'EVN|P03|20261120120000', PID,
      'PV1|1|O|CLINIC||||||||||||||||V-10^^^HOSP^VN',
      'FT1|1|||20261119||CG|71045^Xray chest^C4',
      'PR1|1||71045^Xray exam chest 1 view^C4||20261119',
      'OBX|1|NM|8302-2^Body height^LN||172|cm^^UCUM|||||F|||20261119',
    ], 'DFT^P03');
    assert.equal(dft.records.procedures[0].code.codings[0].code, '71045');
    assert.equal(dft.records.observations[0].valueQuantity?.value, 172);
    assert.equal(dft.records.procedures[0].patientId, dft.records.patients[0].id);

    const rde = map([
      'MSH|^~\\&|PHARM|HOSP|RCV|FAC|20261120120000||RDE^O11|M1|P|2.5.1', PID,
      'ORC|NW|P-1|F-1||||||20261120110000+0000',
      'RXE|^BID|00047040230^Ampicillin 250 mg^NDC|250||mg',
      'RXR|PO^Oral^HL70162',
      'OBX|1|NM|3141-9^Body weight^LN||70|kg^^UCUM|||||F',
    ], 'RDE^O11');
    assert.equal(rde.records.medicationRequests.length, 1);
    const weight = rde.records.observations[0];
    assert.equal(weight.partOfId, rde.records.medicationRequests[0].id);
    assert.equal(weight.partOfType, 'MedicationRequest');
  });
  it('FHIR R4: an Observation partOf an Immunization in the same Bundle is linked the same way', () => {
    const bundle = {
      resourceType: 'Bundle', type: 'collection', entry: [
        { fullUrl: 'urn:uuid:p1', resource: { resourceType: 'Patient', identifier: [{ system: 'urn:mrn', value: 'MRN-7' }] } },
        { fullUrl: 'urn:uuid:i1', resource: { resourceType: 'Immunization', status: 'completed', vaccineCode: { coding: [{ system: 'http://hl7.org/fhir/sid/cvx', code: '08' }] }, patient: { reference: 'urn:uuid:p1' }, occurrenceDateTime: '2026-11-01' } },
        { fullUrl: 'urn:uuid:o1', resource: { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '64994-7' }] }, subject: { reference: 'urn:uuid:p1' }, partOf: [{ reference: 'urn:uuid:i1' }], valueCodeableConcept: { coding: [{ code: 'V02' }] } } },
      ],
    };
    const m = mapToCanonical({ format: 'FHIR_R4', raw: JSON.stringify(bundle), messageType: 'Bundle', messageId: 'B1', sourceSystem: 'SENDER', sourceFacility: '', epid: '' }, { terminology, senderTimeZone: null });
    const [obs] = m.records.observations;
    assert.equal(obs.partOfId, m.records.immunizations[0].id);
    assert.equal(obs.partOfType, 'Immunization');
    assert.equal(obs.patientId, m.records.patients[0].id);
  });
  it('MDM: text OBX lines are the document; any other OBX is an observation that is part of the document', () => {
    const m = map([
      'MSH|^~\\&|DICT|HOSP|RCV|FAC|20261120120000||MDM^T02|M4|P|2.5.1', 'EVN|T02|20261120120000', PID,
      'TXA|1|CN^Consultation note|TX|20261120110000+0000||||||||DOC-77||||||AU',
      'OBX|1|TX|NOTE^Note^L||Patient seen for follow-up.||||||F',
      'OBX|2|TX|NOTE^Note^L||Plan: continue treatment.||||||F',
      'OBX|3|HD|113014^DICOM Study^DCM||1.2.840.1.2.3||||||O',
    ], 'MDM^T02');
    const [doc] = m.records.documents;
    assert.equal(doc.text, 'Patient seen for follow-up.\nPlan: continue treatment.');
    assert.deepEqual(m.records.observations.map((o) => [o.code.codings[0].code, o.valueString, o.partOfId, o.partOfType]), [['113014', '1.2.840.1.2.3', doc.id, 'DocumentReference']]);
  });
});
