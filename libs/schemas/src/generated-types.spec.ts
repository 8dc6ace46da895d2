import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as avro from 'avsc';
import { findSchemasDir, loadSchemaCatalog } from './schema-catalog';
import { generateTypeScript } from './avro-typescript.generator';

describe('generated event types', () => {
  it('are up to date with schemas/*.avsc (run tools/codegen/generate-event-types after a schema change)', () => {
    const dir = findSchemasDir();
    const committed = readFileSync(join(dir, '..', 'libs', 'schemas', 'src', 'generated', 'events.ts'), 'utf8');
    assert.equal(committed, generateTypeScript(loadSchemaCatalog(dir)));
  });
  it('resolves every schema into a self-contained one (parses alone, same fingerprint as the catalog type)', () => {
    const catalog = loadSchemaCatalog();
    for (const name of catalog.names()) {
      const standalone = avro.Type.forSchema(JSON.parse(JSON.stringify(catalog.schema(name))), { registry: {} });
      assert.equal(standalone.fingerprint().toString('hex'), catalog.type(name).fingerprint().toString('hex'), name);
    }
  });
});
