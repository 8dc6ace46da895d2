import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { HEADER, topologyTopics } from '@clinmesh/topology';
import { asyncApiPath, asyncApiYaml } from './asyncapi.document';

describe('docs/asyncapi.yaml', () => {
  it('is up to date with the topology, headers and schemas (regenerate: node tools/run.js libs/schemas/src/asyncapi.main.js)', () => {
    assert.equal(readFileSync(asyncApiPath(), 'utf8'), asyncApiYaml());
  });

  it('describes every topic with its key, every header and its Avro schema', () => {
    const yaml = asyncApiYaml();
    for (const t of topologyTopics()) assert.ok(yaml.includes(`\n  ${t.name}:\n`), `channel ${t.name}`);
    for (const h of Object.values(HEADER)) assert.ok(yaml.includes(`${h}:`), `header ${h}`);
    assert.match(yaml, /key:\n\s+type: "string"/);
    assert.match(yaml, /name: "(org\.clinmesh\.events\.)?CanonicalRecords"/);
    assert.match(yaml, /compatibility BACKWARD_TRANSITIVE/);
  });
});
