import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TIERS, higherTier, tiersAbove, isTier } from './tier';
import { PARTITIONS, stageTopic, topologyTopics } from './topology';

describe('tiers', () => {
  it('raises, never lowers', () => {
    assert.equal(higherTier('bulk', 'stat'), 'stat');
    assert.equal(higherTier('stat', 'bulk'), 'stat');
    assert.equal(higherTier('urgent', 'routine'), 'urgent');
    assert.equal(higherTier('routine', 'routine'), 'routine');
  });
  it('lists the tiers a tier yields to', () => {
    assert.deepEqual(tiersAbove('bulk'), ['stat', 'urgent', 'routine']);
    assert.deepEqual(tiersAbove('stat'), []);
  });
  it('recognises tier names only', () => {
    assert.ok(TIERS.every(isTier));
    assert.equal(isTier('STAT'), false);
    assert.equal(isTier(undefined), false);
  });
});

describe('topology', () => {
  it('has one topic per stage and tier, unique names, and dead-letter topics per service', () => {
    const topics = topologyTopics();
    assert.equal(new Set(topics.map((t) => t.name)).size, topics.length);
    assert.ok(topics.some((t) => t.name === stageTopic('canonical', 'stat') && t.partitions === PARTITIONS.stat));
    assert.ok(topics.some((t) => t.name === 'clinmesh.deadletter.normalization'));
    assert.equal(topics.filter((t) => t.name.startsWith('clinical.ingested.')).length, 4);
  });
  it('gives the deep bulk tier the most partitions (embedded per-partition log cap)', () => {
    assert.ok(PARTITIONS.bulk >= Math.max(PARTITIONS.stat, PARTITIONS.urgent, PARTITIONS.routine));
  });
});
