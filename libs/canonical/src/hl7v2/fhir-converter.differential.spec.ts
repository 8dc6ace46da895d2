import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { findSchemasDir } from '@clinmesh/schemas';
import { mapToCanonical } from '../canonical.mapper';
import { TerminologyMaps } from '../terminology/terminology-map';
import { DEFAULT_TERMINOLOGY } from '../index';
import { FACT_KINDS, Fact, converterFacts } from './fhir-converter.differential';
import exceptionData from './fhir-converter.exceptions.data.json';

const FIXTURES = join(findSchemasDir(), '..', '..', 'shared', 'fixtures');
const THRESHOLD = 0.99;

interface Exception { fixture: string; kind: string; key: string; sourceField: string; converter: string | null; canonical: string | null; count?: number; reason: string }

describe('differential: canonical records vs Microsoft FHIR-Converter, fact by fact, on every HL7 v2 fixture', () => {
  const exceptions = (exceptionData.exceptions as Exception[]).map((e) => ({ ...e, used: 0 }));
  const perKind = new Map<string, { agreed: number; compared: number; excepted: number }>(FACT_KINDS.map((k) => [k, { agreed: 0, compared: 0, excepted: 0 }]));
  const disagreements: string[] = [];
  const files = readdirSync(join(FIXTURES, 'hl7v2')).filter((f) => f.endsWith('.hl7'));
  let fixtures = 0;
  const terminology = new TerminologyMaps(DEFAULT_TERMINOLOGY);
  for (const file of files) {
    const expected = join(FIXTURES, 'hl7v2-fhir-expected', file.replace(/\.hl7$/, '.json'));
    if (!existsSync(expected)) continue;
    fixtures++;
    const mapping = mapToCanonical(
      { format: 'HL7V2', raw: readFileSync(join(FIXTURES, 'hl7v2', file)), messageType: file, messageId: file, sourceSystem: 'FIXTURE', sourceFacility: '', epid: 'EP-DIFF' },
      { terminology, senderTimeZone: null },
    );
    for (const fact of converterFacts(mapping.records, JSON.parse(readFileSync(expected, 'utf8')))) {
      const stats = perKind.get(fact.kind)!;
      if (fact.converter === fact.canonical) { stats.agreed++; stats.compared++; continue; }
      const rule = exceptions.find((e) => e.fixture === file && e.kind === fact.kind && e.key === fact.key && e.converter === fact.converter && e.canonical === fact.canonical);
      if (rule) { rule.used++; stats.excepted++; continue; }
      stats.compared++;
      disagreements.push(`${file} ${describeFact(fact)}`);
    }
  }
  const agreed = [...perKind.values()].reduce((n, s) => n + s.agreed, 0);
  const compared = [...perKind.values()].reduce((n, s) => n + s.compared, 0);
  const excepted = [...perKind.values()].reduce((n, s) => n + s.excepted, 0);
  const table = [...perKind.entries()].filter(([, s]) => s.compared || s.excepted)
    .map(([k, s]) => `  ${k.padEnd(30)} ${String(s.agreed).padStart(4)} / ${String(s.compared).padEnd(4)} agreed${s.excepted ? `   (${s.excepted} excepted)` : ''}`);
  console.log(`FHIR-Converter differential, ${fixtures} fixtures — agreement per kind (excepted facts count in neither figure):\n${table.join('\n')}\n`
    + `  overall: ${agreed} of ${compared} facts agree (${((100 * agreed) / compared).toFixed(2)}%), ${excepted} facts excepted by ${exceptions.length} per-message exceptions`
    + (disagreements.length ? `\n  disagreements:\n    ${disagreements.join('\n    ')}` : ''));

  it('compares every fixture that has converter output, on every fact kind', () => {
    assert.ok(fixtures >= 60, `only ${fixtures} fixtures compared`);
    for (const kind of ['observation.code', 'observation.time', 'encounter.start', 'encounter.class', 'patient.identifier', 'order.code', 'immunization.vaccine', 'appointment.start', 'procedure.code', 'condition.code', 'allergy.code', 'medication.code', 'coverage.plan']) {
      assert.ok(perKind.get(kind)!.compared > 0, `no ${kind} fact compared`);
    }
  });

  it(`agrees with the converter on at least ${THRESHOLD * 100}% of compared facts`, () => {
    assert.ok(agreed / compared >= THRESHOLD, `${agreed} of ${compared} (${((100 * agreed) / compared).toFixed(2)}%) agree:\n${disagreements.join('\n')}`);
  });

  it('has only per-message exceptions, each naming fixture, field, both values and a reason, and none stale', () => {
    for (const e of exceptions) {
      const where = `${e.fixture} ${e.kind} ${e.key}`;
      assert.ok(files.includes(e.fixture), `${where}: no such fixture (exceptions are per message, never patterns)`);
      assert.ok(e.sourceField && e.reason.length > 60, `${where}: needs the source field and a reason`);
      assert.ok(e.converter !== null || e.canonical !== null, `${where}: needs both values`);
      assert.equal(e.used, e.count ?? 1, `${where}: the exception covers ${e.count ?? 1} fact(s) but matched ${e.used}: update or remove it`);
    }
  });
});

function describeFact(f: Fact): string {
  return `${f.kind} ${f.key}: converter ${JSON.stringify(f.converter)} vs canonical ${JSON.stringify(f.canonical)}`;
}

describe('differential: message security labels vs FHIR-Converter meta.security, on every HL7 v2 fixture', () => {
  const terminology = new TerminologyMaps(DEFAULT_TERMINOLOGY);
  const files = readdirSync(join(FIXTURES, 'hl7v2')).filter((f) => f.endsWith('.hl7') && existsSync(join(FIXTURES, 'hl7v2-fhir-expected', f.replace(/\.hl7$/, '.json'))));

  it('every label we read from ARV/PD1 is one the converter put on a resource, and every ARV-carrying fixture gets its labels', () => {
    let labelled = 0;
    for (const file of files) {
      const raw = readFileSync(join(FIXTURES, 'hl7v2', file));
      const ours = mapToCanonical({ format: 'HL7V2', raw, messageType: file, messageId: file, sourceSystem: 'FIXTURE', sourceFacility: '', epid: 'EP-DIFF' }, { terminology, senderTimeZone: null }).securityLabels;
      const bundle = JSON.parse(readFileSync(join(FIXTURES, 'hl7v2-fhir-expected', file.replace(/\.hl7$/, '.json')), 'utf8')) as { entry?: Array<{ resource: { meta?: { security?: Array<{ code?: string }> } } }> };
      const converter = new Set((bundle.entry ?? []).flatMap((e) => (e.resource.meta?.security ?? []).map((c) => c.code).filter((c): c is string => !!c)));
      for (const label of ours) assert.ok(converter.has(label), `${file}: ${label} is not among the converter's security codes ${[...converter].join(', ')}`);
      const arv = /(^|\r|\n)ARV\|/.test(raw.toString('latin1'));
      if (arv && [...converter].some((c) => ['DEMO', 'LOCIS', 'HIV', 'PSY', 'STD'].includes(c))) {
        assert.ok(ours.length > 0, `${file} carries access restrictions the converter labelled, and we read none`);
        labelled++;
      }
    }
    assert.ok(labelled > 0, 'the fixtures exercise ARV');
  });
});
