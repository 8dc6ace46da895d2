import { Admin } from 'kafkajs';
import { DataSource } from 'typeorm';
import { Logger } from '@clinmesh/observability';
import { inTransaction } from '../persistence/unit-of-work';
import { RuntimeRepository } from '../persistence/runtime.repository';
import type { EventConsumer } from '../consumer/event-consumer';

export type ReplayTarget = { to: 'earliest' } | { to: 'offset'; offset: number; partition?: number } | { to: 'timestamp'; timestamp: number };

export interface ReplayResult {
  consumer: string;
  group: string;
  partitions: Array<{ topic: string; partition: number; offset: number }>;
}

/**
 * Replay: reset a consumer's stored offsets (to the log start, an offset or
 * a timestamp) and forget the inbox entries at or after that point, so the
 * service reprocesses them. Outputs carry the same derived ids, so downstream
 * dedupe keeps effects exactly-once. The definition is suspended while its
 * offsets move (its lane goes on) and then seeks to the new stored offsets.
 */
export class ReplayOperations {
  constructor(private readonly deps: { admin: () => Admin; dataSource: DataSource; logger: Logger; clusterId: () => string }) {}

  async replay(consumer: EventConsumer, target: ReplayTarget): Promise<ReplayResult> {
    const admin = this.deps.admin();
    const targets: Array<{ topic: string; partition: number; offset: number }> = [];
    for (const topic of consumer.definition.topics) {
      if (target.to === 'timestamp') {
        const byTime = await admin.fetchTopicOffsetsByTimestamp(topic, target.timestamp);
        for (const p of byTime) targets.push({ topic, partition: p.partition, offset: Number(p.offset) });
        continue;
      }
      for (const end of await admin.fetchTopicOffsets(topic)) {
        if (target.to === 'offset' && target.partition !== undefined && target.partition !== end.partition) continue;
        const offset = target.to === 'earliest' ? Number(end.low) : Math.max(Number(end.low), Math.min(target.offset, Number(end.high)));
        targets.push({ topic, partition: end.partition, offset });
      }
    }
    // Only this definition stops (its partitions pause, its chunk in progress finishes); the lane
    // hosting it and the lane's other definitions go on.
    await consumer.suspend();
    try {
      await inTransaction(this.deps.dataSource, async (uow) => {
        const tables = new RuntimeRepository(uow);
        await tables.storeOffsets(consumer.groupId, this.deps.clusterId(), targets.map((t) => ({ topic: t.topic, partition: t.partition, next: t.offset })));
        for (const t of targets) await tables.forgetInbox(consumer.groupId, t.topic, t.partition, t.offset);
      });
    } finally {
      // Seeks to the new stored offsets and commits them to the lane's Kafka group (lag tooling).
      await consumer.resumeFromStored(targets);
    }
    this.deps.logger.info({ group: consumer.groupId, target, partitions: targets.length }, 'replay: stored offsets reset');
    return { consumer: consumer.name, group: consumer.groupId, partitions: targets };
  }
}
