import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

// The generator is plain CommonJS beside this spec's source (Nx loads it without a build); the
// compiled spec runs from dist/, so both are loaded from the workspace root.
const ROOT = [resolve(__dirname, '../../../../..'), resolve(__dirname, '../../../../../..')].find((d) => readdirSync(d).includes('schemas'))!;

interface VirtualTree {
  write(path: string, content: string): void;
  read(path: string, encoding: 'utf-8'): string | null;
  exists(path: string): boolean;
  listChanges(): Array<{ path: string; type: string }>;
}
const { createTree } = require('@nx/devkit/testing') as { createTree(): VirtualTree };
const { consumerGenerator } = require(join(ROOT, 'tools/nx-plugin/src/generators/consumer/generator.js')) as {
  consumerGenerator(tree: VirtualTree, options: Record<string, unknown>): Promise<unknown>;
};

const CATALOG = 'libs/embedded-platform/src/platform/service-catalog.ts';

function workspace(): VirtualTree {
  const tree = createTree();
  for (const f of readdirSync(join(ROOT, 'schemas')).filter((x) => x.endsWith('.avsc'))) tree.write(`schemas/${f}`, readFileSync(join(ROOT, 'schemas', f), 'utf8'));
  tree.write(CATALOG, readFileSync(join(ROOT, CATALOG), 'utf8'));
  return tree;
}

describe('consumer generator', () => {
  it('writes the app in the house shape and registers it in the catalogue, nothing else', async () => {
    const tree = workspace();
    const before = new Set(tree.listChanges().map((c) => c.path));
    await consumerGenerator(tree, { name: 'vitals-feed', topics: 'canonical', tiers: 'stat,urgent', resource: 'Observation', skipFormat: true });
    const written = tree.listChanges().map((c) => c.path).filter((p) => !before.has(p) || p === CATALOG);
    for (const f of [
      'project.json', 'README.md', 'src/main.ts', 'src/vitals-feed.service.ts', 'src/vitals-feed.consumers.ts', 'src/config/vitals-feed.config.ts',
      'src/domain/observation-record.ts', 'src/application/record-observation.handler.ts', 'src/application/record-observation.handler.spec.ts',
      'src/adapters/persistence/observation-record.repository.ts', 'src/adapters/persistence/vitals-feed.int-spec.ts', 'src/testing/canonical-event.builders.ts',
    ]) assert.ok(tree.exists(`apps/vitals-feed/${f}`), f);
    assert.deepEqual(written.filter((p) => !p.startsWith('apps/vitals-feed/')), [CATALOG]);
    const catalog = tree.read(CATALOG, 'utf-8')!;
    assert.match(catalog, /CONSUMER_SERVICE_NAMES = \[[^\]]*'vitals-feed',/);
    assert.match(catalog, /'vitals-feed': \d{4},/);
    assert.match(tree.read('apps/vitals-feed/src/config/vitals-feed.config.ts', 'utf-8')!, /tiers: \['stat', 'urgent'\]/);
    assert.match(tree.read('apps/vitals-feed/project.json', 'utf-8')!, /"scope:consumers", "type:app"/);
    assert.doesNotMatch(tree.read('apps/vitals-feed/src/testing/canonical-event.builders.ts', 'utf-8')!, /tier: null|<%/);
  });

  it('generates for another record type and the de-identified topics; --register=false leaves the catalogue alone', async () => {
    const tree = workspace();
    const catalog = tree.read(CATALOG, 'utf-8');
    await consumerGenerator(tree, { name: 'vaccine-research', topics: 'deidentified', resource: 'Immunization', register: false, skipFormat: true });
    assert.equal(tree.read(CATALOG, 'utf-8'), catalog);
    assert.match(tree.read('apps/vaccine-research/src/config/vaccine-research.config.ts', 'utf-8')!, /topics: 'deidentified'/);
    assert.match(tree.read('apps/vaccine-research/src/domain/immunization-record.ts', 'utf-8')!, /event\.records\?\.immunizations/);
    assert.match(tree.read('apps/vaccine-research/src/testing/canonical-event.builders.ts', 'utf-8')!, /const DEFAULT_IMMUNIZATION: Immunization = \{/);
  });

  it('refuses bad options with the reason', async () => {
    await assert.rejects(consumerGenerator(workspace(), { name: 'x-feed', tiers: 'stat,asap', skipFormat: true }), /--tiers/);
    await assert.rejects(consumerGenerator(workspace(), { name: 'x-feed', resource: 'Nope', skipFormat: true }), /--resource/);
    await assert.rejects(consumerGenerator(workspace(), { name: 'normalization', skipFormat: true }), /pipeline's services/);
  });
});
