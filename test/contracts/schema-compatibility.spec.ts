// The CI check of issue #5: every schema stays compatible with the versions already released (schemas/released).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkAvroCompatibility } from '@clinmesh/schema-registry';
import { loadSchemaCatalog, SUBJECT_COMPATIBILITY } from '../../libs/schemas/src/schema-catalog';
import { releasedVersions } from '../../libs/schemas/src/schema-release';

/**
 * The gate on schema evolution: each schema in schemas/ must be readable
 * against every released version kept in schemas/released (canonical
 * subjects BACKWARD_TRANSITIVE, the others at least BACKWARD against the latest).
 */
describe('schema compatibility with released versions', () => {
  const catalog = loadSchemaCatalog();
  for (const name of catalog.names()) {
    it(`${name} is compatible with its released versions`, () => {
      const released = releasedVersions(name);
      assert.ok(released.length >= 1, `${name} has no released version in schemas/released/${name}`);
      const level = SUBJECT_COMPATIBILITY[name] ?? 'BACKWARD';
      const result = checkAvroCompatibility(JSON.stringify(catalog.schema(name)), released.map((r) => r.schema), level);
      assert.equal(result.compatible, true, `${name} breaks ${level}: ${result.messages.join('; ')}`);
    });
  }

  it('detects an incompatible change (a new field without a default) in CanonicalEvent', () => {
    const schema = JSON.parse(JSON.stringify(catalog.schema('CanonicalEvent'))) as { fields: unknown[] };
    schema.fields.push({ name: 'mandatoryNewField', type: 'string', doc: 'no default: old data cannot be read' });
    const result = checkAvroCompatibility(JSON.stringify(schema), releasedVersions('CanonicalEvent').map((r) => r.schema), 'BACKWARD_TRANSITIVE');
    assert.equal(result.compatible, false);
  });

  it('detects a change compatible with the latest release only (transitive check reads v1 too)', () => {
    const released = releasedVersions('CanonicalEvent');
    assert.ok(released.length >= 2, 'CanonicalEvent has two released versions');
    // v2 with the v2-only field `records` made required: readable from v2 data, not from v1 data.
    const schema = JSON.parse(JSON.stringify(catalog.schema('CanonicalEvent'))) as { fields: Array<{ name: string; default?: unknown }> };
    delete schema.fields.find((f) => f.name === 'records')!.default;
    const latestOnly = checkAvroCompatibility(JSON.stringify(schema), [released[released.length - 1].schema], 'BACKWARD');
    const transitive = checkAvroCompatibility(JSON.stringify(schema), released.map((r) => r.schema), 'BACKWARD_TRANSITIVE');
    assert.equal(latestOnly.compatible, true);
    assert.equal(transitive.compatible, false);
  });
});
