import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateAgainstR4Definitions } from './fhir-r4-definitions.validator';

const FIXTURES = join(__dirname, '..', '..', '..', '..', '..', '..', '..', 'shared', 'fixtures');

describe('validation against the R4 StructureDefinitions', () => {
  it('accepts a valid resource', () => {
    assert.deepEqual(validateAgainstR4Definitions({ resourceType: 'Patient', id: 'p1', gender: 'female', birthDate: '1980-01-02', name: [{ family: 'Doe' }] }, 'error'), []);
  });
  it('names each problem with its location: wrong types and unknown elements', () => {
    const issues = validateAgainstR4Definitions({ resourceType: 'Patient', birthDate: 19800102, nickname: 'JD', name: [{ family: ['Doe'] }] }, 'error');
    const where = issues.map((i) => i.expression.join());
    assert.ok(issues.every((i) => i.severity === 'error'));
    assert.ok(where.some((w) => w.includes('birthDate')), where.join(' | '));
    assert.ok(where.some((w) => w.includes('nickname')), where.join(' | '));
    assert.ok(where.some((w) => w.includes('name') && w.includes('family')), where.join(' | '));
  });
  it('applies the required-elements policy to a real converter Bundle missing Provenance.agent.who', () => {
    const bundle = JSON.parse(readFileSync(join(FIXTURES, 'hl7v2-fhir-expected', 'LAB-ORU-2.json'), 'utf8'));
    const lenient = validateAgainstR4Definitions(bundle, 'warning');
    assert.ok(lenient.length > 0 && lenient.every((i) => i.severity === 'warning' && i.code === 'required'));
    assert.ok(lenient.some((i) => i.expression.join().includes('agent')));
    assert.ok(validateAgainstR4Definitions(bundle, 'error').some((i) => i.severity === 'error'));
  });
  it('is liberal on a Bundle envelope (shared fixture: batch-response without responses, an entry without resource) but strict inside resources', () => {
    const bundle = JSON.parse(readFileSync(join(FIXTURES, 'fhir-r4', 'ObservationBundle.json'), 'utf8').replace(/^\uFEFF/, ''));
    const issues = validateAgainstR4Definitions(bundle, 'warning');
    assert.ok(issues.length > 0 && issues.every((i) => i.severity === 'warning'));
    const broken = { ...bundle, entry: [{ resource: { resourceType: 'Patient', birthDate: 19800102 } }] };
    assert.ok(validateAgainstR4Definitions(broken, 'warning').some((i) => i.severity === 'error' && i.expression.join().includes('resource')));
  });
});
