import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_TERMINOLOGY, TerminologyMaps, mapToCanonical } from '@clinmesh/canonical';
import { IdentifiedEvent, findSchemasDir, loadSchemaCatalog } from '@clinmesh/schemas';
import { toCanonicalEvent } from './canonical-envelope.mapper';

const FIXTURES = join(findSchemasDir(), '..', '..', 'shared', 'fixtures');

/**
 * Every shared fixture — each HL7 v2 message and each FHIR-Converter bundle sent in as FHIR R4 — maps to a
 * CanonicalEvent the Avro contract accepts (new record types and fields included), so nothing mapped is
 * lost at the topic.
 */
describe('canonical envelope: every shared fixture encodes under CanonicalEvent.avsc', () => {
  const type = loadSchemaCatalog().type('CanonicalEvent');
  const terminology = new TerminologyMaps(DEFAULT_TERMINOLOGY);
  const identified = (format: 'HL7V2' | 'FHIR_R4', raw: Buffer, name: string) => ({
    eventId: `ev-${name}`, correlationId: `corr-${name}`, epid: 'EP-1', tier: 'routine',
    ingested: { format, raw, messageType: name, controlId: name, version: '2.5.1', receivedAt: 1_700_000_000_000, source: { system: 'FIXTURE', facility: 'FAC', channel: 'HTTP' } },
  }) as unknown as IdentifiedEvent;

  it('encodes and decodes every HL7 v2 fixture and every converter bundle with all their records', () => {
    const failures: string[] = [];
    let records = 0;
    const inputs: Array<{ name: string; format: 'HL7V2' | 'FHIR_R4'; raw: Buffer }> = [];
    for (const f of readdirSync(join(FIXTURES, 'hl7v2')).filter((x) => x.endsWith('.hl7'))) inputs.push({ name: f, format: 'HL7V2', raw: readFileSync(join(FIXTURES, 'hl7v2', f)) });
    for (const f of readdirSync(join(FIXTURES, 'hl7v2-fhir-expected')).filter((x) => x.endsWith('.json'))) inputs.push({ name: f, format: 'FHIR_R4', raw: readFileSync(join(FIXTURES, 'hl7v2-fhir-expected', f)) });
    assert.ok(existsSync(join(FIXTURES, 'fhir-r4', 'ObservationBundle.json')));
    inputs.push({ name: 'ObservationBundle.json', format: 'FHIR_R4', raw: readFileSync(join(FIXTURES, 'fhir-r4', 'ObservationBundle.json')) });
    for (const input of inputs) {
      const ev = identified(input.format, input.raw, input.name);
      const mapping = mapToCanonical({ format: input.format, raw: input.raw, messageType: input.name, messageId: input.name, sourceSystem: 'FIXTURE', sourceFacility: 'FAC', epid: 'EP-1' },
        { terminology, senderTimeZone: null });
      const event = { eventId: `canon-${input.name}`, ...toCanonicalEvent(ev, mapping), supersedesEventId: null };
      const errors: string[] = [];
      if (!type.isValid(event, { errorHook: (path) => errors.push(path.join('.')) })) { failures.push(`${input.name}: ${errors.slice(0, 3).join(', ')}`); continue; }
      const back = type.fromBuffer(type.toBuffer(event)) as typeof event;
      records += Object.values(back.records!).reduce((n, list) => n + (list as unknown[]).length, 0);
    }
    assert.deepEqual(failures, []);
    assert.ok(records > 1000, `only ${records} records`);
  });
});
