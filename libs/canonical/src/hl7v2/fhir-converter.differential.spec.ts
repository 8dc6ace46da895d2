import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { findSchemasDir } from '@clinmesh/schemas';
import { mapToCanonical } from '../canonical.mapper';
import { TerminologyMaps } from '../terminology/terminology-map';
import { DEFAULT_TERMINOLOGY } from '../index';
import { compareWithConverter } from './fhir-converter.differential';
import exceptions from './fhir-converter.exceptions.data.json';

const FIXTURES = join(findSchemasDir(), '..', '..', 'shared', 'fixtures');

interface Rule { resource: string; field: string; fixture?: string; detail?: string; reason: string }

describe('differential: canonical records vs Microsoft FHIR-Converter on every HL7 v2 fixture', () => {
  const rules = (exceptions.rules as Rule[]).map((r) => ({ ...r, used: 0 }));
  const unexplained: string[] = [];
  const files = readdirSync(join(FIXTURES, 'hl7v2')).filter((f) => f.endsWith('.hl7'));
  let compared = 0;
  const terminology = new TerminologyMaps(DEFAULT_TERMINOLOGY);
  for (const file of files) {
    const expected = join(FIXTURES, 'hl7v2-fhir-expected', file.replace(/\.hl7$/, '.json'));
    if (!existsSync(expected)) continue;
    compared++;
    const mapping = mapToCanonical(
      { format: 'HL7V2', raw: readFileSync(join(FIXTURES, 'hl7v2', file)), messageType: file, messageId: file, sourceSystem: 'FIXTURE', sourceFacility: '', epid: 'EP-DIFF' },
      { terminology, senderTimeZone: null },
    );
    for (const diff of compareWithConverter(mapping.records, JSON.parse(readFileSync(expected, 'utf8')))) {
      const [resource, field, detail] = diff.split('|');
      const rule = rules.find((r) => r.resource === resource && r.field === field
        && (!r.fixture || new RegExp(r.fixture).test(file)) && (!r.detail || new RegExp(r.detail).test(detail)));
      if (rule) rule.used++;
      else unexplained.push(`${file} ${diff}`);
    }
  }

  it('compares every fixture that has converter output', () => {
    assert.ok(compared >= 60, `only ${compared} fixtures compared`);
  });

  it('agrees on identifiers, names, birth date, gender, address, encounter, observations, orders and appointments except for documented exceptions', () => {
    assert.deepEqual(unexplained, [], `differences no documented exception explains:\n${unexplained.join('\n')}`);
  });

  it('has no stale exception (each rule still explains a difference) and each gives a reason', () => {
    for (const r of rules) {
      assert.ok(r.reason.length > 40, `rule ${r.resource}|${r.field} needs a reason`);
      assert.ok(r.used > 0, `exception ${r.resource}|${r.field} ${r.fixture ?? ''} ${r.detail ?? ''} no longer matches any difference: remove it`);
    }
  });
});
