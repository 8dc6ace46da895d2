import type { BatchProcessor, ChunkPart, DecodedRecord } from './batch-processor';

/**
 * Group commit for one consumer lane. Under load every stage's events arrive
 * spread thin over many partitions and tiers (6 partitions × 4 tiers, plus
 * the single-topic consumers), and the embedded cluster answers a fetch with
 * one record batch per partition: each kafkajs worker would commit its few
 * events in a transaction of its own — at a fixed cost of round trips and a
 * WAL flush each, on a machine where every system call is dear.
 *
 * Chunks the lane's workers submit while a commit is in flight (or in the
 * same turn of the event loop) wait and go together in the next one
 * transaction. Alone, a chunk commits at once: an idle event is never held.
 * If the shared transaction fails, every chunk is committed on its own, so a
 * failing chunk (which its processor then isolates record by record) never
 * fails or delays the others beyond that one attempt.
 *
 * Order stays per partition: kafkajs hands a partition to one worker at a
 * time, and a worker submits its partition's next chunk only after the
 * previous one committed.
 */
export class TransactionCombiner {
  private queue: Array<{ part: ChunkPart; resolve: () => void; reject: (error: unknown) => void }> = [];
  private running = false;

  /** `maxRecords`: at most this many records in one shared transaction (a bounded transaction size). */
  constructor(private readonly maxRecords: number, private readonly commit: (parts: ChunkPart[]) => Promise<void>) {}

  submit(processor: BatchProcessor, records: DecodedRecord[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ part: { processor, records }, resolve, reject });
      if (!this.running) {
        this.running = true;
        // One turn of the event loop: the other workers' chunks of the same fetch join this commit.
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length) {
        const group = this.take();
        try {
          await this.commit(mergeByProcessor(group.map((g) => g.part)));
          for (const g of group) g.resolve();
        } catch (error) {
          if (group.length === 1) {
            group[0].reject(error);
            continue;
          }
          // Each chunk on its own: only the failing one reports the failure.
          for (const g of group) {
            try {
              await this.commit([g.part]);
              g.resolve();
            } catch (own) {
              g.reject(own);
            }
          }
        }
      }
    } finally {
      this.running = false;
    }
  }

  /** The queued chunks, oldest first, up to `maxRecords` (always at least one). */
  private take(): typeof this.queue {
    let records = 0;
    let n = 0;
    while (n < this.queue.length && (n === 0 || records + this.queue[n].part.records.length <= this.maxRecords)) {
      records += this.queue[n].part.records.length;
      n += 1;
    }
    return this.queue.splice(0, n);
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
