import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ClinmeshError } from '@clinmesh/errors';
import { readFhirIntakeFacts } from './fhir-intake';

const policy = { maxEntries: 10, requiredElements: 'error' as const };
function issuesOf(body: unknown, p = policy): Array<{ severity: string; code: string; expression: string[] }> {
  try {
    readFhirIntakeFacts(body, p);
  } catch (error) {
    assert.ok(error instanceof ClinmeshError);
    return (error.details as { issues: Array<{ severity: string; code: string; expression: string[] }> }).issues;
  }
  return [];
}

describe('FHIR R4 structural validation', () => {
  test('a valid message Bundle yields its facts', () => {
    const facts = readFhirIntakeFacts({
      resourceType: 'Bundle', id: 'b1', type: 'message',
      entry: [
        { resource: { resourceType: 'MessageHeader', eventCoding: { code: 'x' }, source: { endpoint: 'urn:x' } } },
        { resource: { resourceType: 'Patient', identifier: [{ system: 'urn:mrn', value: '42', type: { coding: [{ code: 'MR' }] } }], birthDate: '1980-02' } },
        { resource: { resourceType: 'Observation', status: 'final', code: { text: 'K' }, interpretation: [{ coding: [{ code: 'HH' }] }], effectiveDateTime: '2026-11-21T08:00:00+01:00' } },
      ],
    }, policy);
    assert.equal(facts.messageType, 'Bundle/message');
    assert.equal(facts.controlId, 'b1');
    assert.deepEqual(facts.patientIdentifiers, [{ system: 'urn:mrn', value: '42', type: 'MR' }]);
    assert.deepEqual(facts.abnormalFlags, ['HH']);
    assert.deepEqual(facts.warnings, []);
  });

  test('names the location of every problem', () => {
    const where = issuesOf({
      resourceType: 'Bundle', type: 'message',
      entry: [
        { resource: { resourceType: 'Patient', gender: 'F', birthDate: '21/11/1980', name: [{ given: [] }], active: null } },
        { resource: { resourceType: 'Observation', status: 'final', code: {}, issued: '2026-11-21' } },
        { resource: { resourceType: 'Unicorn' } },
      ],
    }).map((i) => i.expression[0]).sort();
    assert.deepEqual(where, [
      'Bundle.entry[0].resource',
      'Bundle.entry[0].resource.active', 'Bundle.entry[0].resource.birthDate', 'Bundle.entry[0].resource.gender', 'Bundle.entry[0].resource.name[0].given',
      'Bundle.entry[1].resource.code', 'Bundle.entry[1].resource.issued',
      'Bundle.entry[2].resource.resourceType',
    ].sort());
  });

  test('missing min-1 elements refuse under `error`, are reported under `warning`', () => {
    const obs = { resourceType: 'Observation', code: { text: 'x' } };
    assert.deepEqual(issuesOf(obs).map((i) => i.expression[0]), ['Observation.status']);
    const facts = readFhirIntakeFacts(obs, { maxEntries: 10, requiredElements: 'warning' });
    assert.deepEqual(facts.warnings.map((w) => [w.severity, w.expression[0]]), [['warning', 'Observation.status']]);
    assert.deepEqual(issuesOf({ resourceType: 'Immunization', status: 'completed', vaccineCode: {}, patient: { reference: 'Patient/1' } }).map((i) => i.expression[0]).sort(),
      ['Immunization.occurrence[x]', 'Immunization.vaccineCode'].sort());
  });

  test('transaction entries need request.method and url; too many entries is too-costly', () => {
    const where = issuesOf({ resourceType: 'Bundle', type: 'transaction', entry: [{ resource: { resourceType: 'Basic', code: { text: 'a' } } }, { request: { method: 'DELETE', url: 'Basic/1' } }] });
    assert.deepEqual(where.map((i) => i.expression[0]), ['Bundle.entry[0].request']);
    const many = issuesOf({ resourceType: 'Bundle', type: 'collection', entry: Array.from({ length: 11 }, () => ({ resource: { resourceType: 'Basic', code: { text: 'a' } } })) });
    assert.equal(many[0].code, 'too-costly');
  });
});
