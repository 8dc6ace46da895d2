import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GroupCommit } from './group-commit';

describe('GroupCommit', () => {
  it('hands each item its own result from the shared commit, and its own failure after a failed group', async () => {
    const commits: number[][] = [];
    const group = new GroupCommit<number, string>({
      maxWeight: 10,
      commit: async (items) => {
        commits.push(items);
        if (items.includes(13)) throw new Error('unlucky');
        return items.map((i) => `ok ${i}`);
      },
    });
    const results = await Promise.allSettled([group.submit(1), group.submit(13), group.submit(2)]);
    assert.deepEqual(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)), ['ok 1', 'unlucky', 'ok 2']);
    assert.deepEqual(commits, [[1, 13, 2], [1], [13], [2]]);
  });

  it('counts one per item by default: a group never exceeds maxWeight items', async () => {
    const commits: number[][] = [];
    const group = new GroupCommit<number>({ maxWeight: 2, commit: async (items) => { commits.push(items); } });
    await Promise.all([1, 2, 3, 4, 5].map((i) => group.submit(i)));
    assert.deepEqual(commits, [[1, 2], [3, 4], [5]]);
  });
});
