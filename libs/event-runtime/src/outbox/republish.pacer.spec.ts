import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Admin } from 'kafkajs';
import { createLogger } from '@clinmesh/observability';
import { RepublishPacer } from './republish.pacer';

/** A cluster's offsets as the admin API reports them (the pacer's only input besides the directory). */
function fakeAdmin(ends: Record<string, Array<{ low: number; high: number }>>, committed: Record<string, Record<string, number[]>>): Admin {
  return {
    fetchTopicOffsets: async (topic: string) => (ends[topic] ?? []).map((e, partition) => ({ partition, low: String(e.low), high: String(e.high), offset: String(e.high) })),
    fetchOffsets: async ({ groupId, topics }: { groupId: string; topics: string[] }) =>
      topics.map((topic) => ({ topic, partitions: (committed[groupId]?.[topic] ?? []).map((offset, partition) => ({ partition, offset: String(offset) })) })),
  } as unknown as Admin;
}

const rows = (topic: string, n: number, bytes = 1000) => Array.from({ length: n }, (_, i) => ({ topic, bytes, i }));
const logger = createLogger('pacer-spec', 'silent');

describe('RepublishPacer', () => {
  it('admits a prefix of each topic up to the budget beyond the slowest group, and holds the rest', async () => {
    // budget 10 records of 1000 bytes per partition; partition 1 has 7 unread by the slowest group.
    const admin = fakeAdmin({ t: [{ low: 0, high: 20 }, { low: 0, high: 30 }] }, { fast: { t: [20, 30] }, slow: { t: [20, 23] } });
    const pacer = new RepublishPacer(() => admin, () => ['fast', 'slow'], logger, { partitionBudgetBytes: 10_000, noConsumerGraceMs: 60_000, refreshMs: 0 });
    pacer.observe(rows('t', 1));
    const { admitted, held } = await pacer.admit([...rows('t', 5), ...rows('u', 2)]);
    assert.deepEqual(admitted.filter((r) => r.topic === 't').map((r) => r.i), [0, 1, 2], 'the first 3 in order (10 − 7 unread)');
    assert.deepEqual(admitted.filter((r) => r.topic === 'u').length, 2, 'another topic is not held behind t');
    assert.deepEqual(held, ['t']);
  });

  it('releases a topic once the slowest group has read, and leaves a topic nobody reads unpaced after the grace period', async () => {
    const committed: Record<string, Record<string, number[]>> = { g: { t: [0] } };
    const admin = fakeAdmin({ t: [{ low: 0, high: 10 }], lonely: [{ low: 0, high: 10_000 }] }, committed);
    const pacer = new RepublishPacer(() => admin, (topic) => (topic === 't' ? ['g'] : []), logger, { partitionBudgetBytes: 10_000, noConsumerGraceMs: 0, refreshMs: 0 });
    pacer.observe(rows('t', 1));
    assert.equal((await pacer.admit(rows('t', 3))).admitted.length, 0, 'ten unread: the budget is used up');
    committed.g.t = [8];
    assert.equal((await pacer.admit(rows('t', 3))).admitted.length, 3, 'two unread: room again');
    assert.equal((await pacer.admit(rows('lonely', 50))).admitted.length, 50, 'no consumer group after the grace period: not paced');
  });
});
