import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { findSchemasDir } from '@clinmesh/schemas';
import { mapToCanonical } from '../canonical.mapper';
import { TerminologyMaps } from '../terminology/terminology-map';
import { DEFAULT_TERMINOLOGY } from '../index';
import { Fact, converterFacts } from '../hl7v2/fhir-converter.differential';
import differentialExceptions from '../hl7v2/fhir-converter.exceptions.data.json';

/**
 * The FHIR path: each shared HL7 v2 fixture and the FHIR-Converter bundle made from it, sent in as FHIR R4,
 * must map to the same canonical facts. Facts only (codes, values, units, times, identifiers, names...), never
 * ids, provenance or source. The facts are read from both canonical results on the keys the converter's bundle
 * states (the same extraction the differential uses). A fact that differs must be one the differential already
 * excepts for that fixture (the converter states it differently from the HL7 v2 reading, so the FHIR reading of
 * the converter's bundle differs the same way): each such case is listed by the test.
 */
const FIXTURES = join(findSchemasDir(), '..', '..', 'shared', 'fixtures');
/** Facts that exist only when their record matched (a value of an observation, a time of an order...). */
const DEPENDENT = /\.(value|unit|interpretation|time|authoredOn|occurrence|onset|period|end|start)$/;
const PRIMARY_WITH_TIME = new Set(['encounter.start', 'encounter.end', 'appointment.start', 'appointment.end']);

interface DiffException { fixture: string; kind: string; key: string; converter: string | null; canonical: string | null }

describe('FHIR path: each HL7 v2 fixture and its FHIR-Converter bundle, sent in as FHIR R4, map to equal canonical facts', () => {
  const terminology = new TerminologyMaps(DEFAULT_TERMINOLOGY);
  const excepted = differentialExceptions.exceptions as DiffException[];
  const explainedByConverter: string[] = [];
  const unexplained: string[] = [];
  let pairs = 0;
  let compared = 0;
  let equal = 0;
  const unparseable: string[] = [];
  for (const file of readdirSync(join(FIXTURES, 'hl7v2')).filter((f) => f.endsWith('.hl7'))) {
    const bundlePath = join(FIXTURES, 'hl7v2-fhir-expected', file.replace(/\.hl7$/, '.json'));
    if (!existsSync(bundlePath)) continue;
    pairs++;
    const bundleText = readFileSync(bundlePath, 'utf8');
    const bundle = JSON.parse(bundleText);
    const common = { messageId: file, sourceSystem: 'FIXTURE', sourceFacility: '', epid: 'EP-EQ' };
    const fromHl7 = mapToCanonical({ ...common, format: 'HL7V2', raw: readFileSync(join(FIXTURES, 'hl7v2', file)), messageType: file }, { terminology, senderTimeZone: null });
    const fromFhir = mapToCanonical({ ...common, format: 'FHIR_R4', raw: bundleText, messageType: 'Bundle' }, { terminology, senderTimeZone: null });
    if (fromFhir.issues.some((i) => i.code === 'MESSAGE.UNPARSEABLE')) unparseable.push(file);
    const a = byKey(converterFacts(fromHl7.records, bundle));
    const b = byKey(converterFacts(fromFhir.records, bundle));
    for (const key of new Set([...a.keys(), ...b.keys()])) {
      const [kind, factKey, converter] = key.split('\u0000');
      const left = a.get(key) ?? [];
      const right = b.get(key) ?? [];
      const dependent = DEPENDENT.test(kind) && !PRIMARY_WITH_TIME.has(kind);
      // A dependent fact exists once per matched record: where one path matched fewer records, the primary fact says so.
      for (let i = 0; i < (dependent ? Math.min(left.length, right.length) : Math.max(left.length, right.length)); i++) {
        const hl7 = left[i] ?? null;
        const fhir = right[i] ?? null;
        compared++;
        if (hl7 === fhir) { equal++; continue; }
        const line = `${file} ${kind} ${factKey}: HL7 v2 → ${JSON.stringify(hl7)}, FHIR → ${JSON.stringify(fhir)}`;
        const known = excepted.find((e) => e.fixture === file && e.kind === kind && e.key === factKey && e.converter === (converter === '\u0001' ? null : converter) && e.canonical === hl7);
        (known ? explainedByConverter : unexplained).push(line);
      }
    }
  }
  console.log(`FHIR path: ${pairs} HL7 v2 / FHIR bundle pairs, ${compared} canonical facts compared, ${equal} equal; `
    + `${explainedByConverter.length} differ where the converter's bundle states the fact differently from the HL7 v2 reading `
    + `(each a per-message differential exception):\n  ${explainedByConverter.join('\n  ')}`);

  it('maps every shared bundle (FHIR R4) without a parse failure', () => {
    assert.ok(pairs >= 60, `only ${pairs} pairs`);
    assert.deepEqual(unparseable, []);
  });

  it('finds the same canonical facts through both paths, except the listed converter differences', () => {
    assert.ok(compared > 1000, `only ${compared} facts compared`);
    assert.deepEqual(unexplained, [], `facts that differ between the HL7 v2 and FHIR paths:\n${unexplained.join('\n')}`);
  });

  it('maps the shared standalone FHIR R4 bundle into canonical records', () => {
    // (fhir-r4/ExamplePatient.json is the converter's JSON-template sample input, not a FHIR resource.)
    for (const name of ['ObservationBundle.json']) {
      const m = mapToCanonical({ format: 'FHIR_R4', raw: readFileSync(join(FIXTURES, 'fhir-r4', name)), messageType: 'fhir', messageId: name, sourceSystem: 'FIXTURE', sourceFacility: '', epid: '' },
        { terminology, senderTimeZone: null });
      assert.ok(m.primary, `${name}: no primary record (${JSON.stringify(m.issues)})`);
    }
  });
});

/** kind + key + converter value → the canonical values, in order (one per occurrence). */
function byKey(facts: Fact[]): Map<string, Array<string | null>> {
  const out = new Map<string, Array<string | null>>();
  for (const f of facts) {
    const k = [f.kind, f.key, f.converter ?? '\u0001'].join('\u0000');
    out.set(k, [...(out.get(k) ?? []), f.canonical]);
  }
  for (const v of out.values()) v.sort((x, y) => String(x).localeCompare(String(y)));
  return out;
}
