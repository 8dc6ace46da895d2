import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { BatchProcessor, ChunkPart, DecodedRecord } from './batch-processor';
import { TransactionCombiner, mergeByProcessor } from './transaction-combiner';

const processor = (name: string) => ({ name }) as unknown as BatchProcessor;
const records = (partition: number, ...offsets: number[]) => offsets.map((offset) => ({ topic: 't', partition, offset }) as DecodedRecord);
const describeParts = (parts: ChunkPart[]) => parts.map((p) => `${(p.processor as unknown as { name: string }).name}:${p.records.map((r) => `${r.partition}/${r.offset}`).join(',')}`);

describe('TransactionCombiner', () => {
  it('commits chunks submitted in the same turn together, one part per definition, in submission order', async () => {
    const commits: string[][] = [];
    const combiner = new TransactionCombiner(500, async (parts) => { commits.push(describeParts(parts)); });
    const [routine, urgent] = [processor('routine'), processor('urgent')];
    await Promise.all([
      combiner.submit(routine, records(0, 1, 2)),
      combiner.submit(urgent, records(3, 7)),
      combiner.submit(routine, records(1, 5)),
    ]);
    assert.deepEqual(commits, [['routine:0/1,0/2,1/5', 'urgent:3/7']]);
  });

  it('queues what arrives during a commit for the next one, and bounds a shared transaction', async () => {
    const commits: string[][] = [];
    let release!: () => void;
    const first = new Promise<void>((r) => { release = r; });
    let calls = 0;
    const combiner = new TransactionCombiner(3, async (parts) => {
      commits.push(describeParts(parts));
      if (calls++ === 0) await first;
    });
    const p = processor('p');
    const a = combiner.submit(p, records(0, 1));
    await new Promise((r) => setImmediate(r));
    const later = [combiner.submit(p, records(1, 1, 2)), combiner.submit(p, records(2, 1)), combiner.submit(p, records(3, 1))];
    release();
    await Promise.all([a, ...later]);
    assert.deepEqual(commits, [['p:0/1'], ['p:1/1,1/2,2/1'], ['p:3/1']], 'at most 3 records per shared transaction');
  });

  it('after a failed shared transaction commits each chunk alone: only the failing chunk is rejected', async () => {
    const commits: string[][] = [];
    const combiner = new TransactionCombiner(500, async (parts) => {
      commits.push(describeParts(parts));
      if (parts.some((part) => part.records.some((r) => r.offset === 13))) throw new Error('poison');
    });
    const p = processor('p');
    const results = await Promise.allSettled([combiner.submit(p, records(0, 1)), combiner.submit(p, records(1, 13)), combiner.submit(p, records(2, 2))]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.deepEqual(commits, [['p:0/1,1/13,2/2'], ['p:0/1'], ['p:1/13'], ['p:2/2']]);
  });

  it('mergeByProcessor keeps each definition\'s records in submission order', () => {
    const [a, b] = [processor('a'), processor('b')];
    assert.deepEqual(describeParts(mergeByProcessor([{ processor: a, records: records(0, 1) }, { processor: b, records: records(0, 9) }, { processor: a, records: records(1, 4) }])), ['a:0/1,1/4', 'b:0/9']);
  });
});
