import type { BatchProcessor, ChunkPart, DecodedRecord } from './batch-processor';
import { GroupCommit } from '../publish/group-commit';

/**
 * Group commit for one consumer lane. Under load every stage's events arrive
 * spread thin over many partitions and tiers (6 partitions × 4 tiers, plus
 * the single-topic consumers), and the embedded cluster answers a fetch with
 * one record batch per partition: each kafkajs worker would commit its few
 * events in a transaction of its own — at a fixed cost of round trips and a
 * WAL flush each, on a machine where every system call is dear.
 *
 * Chunks the lane's workers submit while a commit is in flight (or in the
 * same turn of the event loop) go together in the next one transaction
 * (GroupCommit, weighed in records); a failing chunk (which its processor
 * then isolates record by record) never fails the others.
 *
 * Order stays per partition: kafkajs hands a partition to one worker at a
 * time, and a worker submits its partition's next chunk only after the
 * previous one committed.
 */
export class TransactionCombiner {
  private readonly group: GroupCommit<ChunkPart>;

  /** `maxRecords`: at most this many records in one shared transaction (a bounded transaction size). */
  constructor(maxRecords: number, commit: (parts: ChunkPart[]) => Promise<void>) {
    this.group = new GroupCommit<ChunkPart>({ maxWeight: maxRecords, weight: (part) => part.records.length, commit: (parts) => commit(mergeByProcessor(parts)) });
  }

  submit(processor: BatchProcessor, records: DecodedRecord[]): Promise<void> {
    return this.group.submit({ processor, records });
  }
}

/** Chunks of one definition (several partitions) become one part, in submission order. */
export function mergeByProcessor(parts: ChunkPart[]): ChunkPart[] {
  const byProcessor = new Map<BatchProcessor, DecodedRecord[]>();
  for (const p of parts) {
    const records = byProcessor.get(p.processor);
    if (records) records.push(...p.records);
    else byProcessor.set(p.processor, [...p.records]);
  }
  return [...byProcessor.entries()].map(([processor, records]) => ({ processor, records }));
}
