import { Tier } from '@clinmesh/topology';
import { ClinmeshError } from '@clinmesh/errors';
import type { EventRuntime } from '../event-runtime';

export type ReplayTarget = { to: 'earliest' } | { to: 'offset'; offset: number; partition?: number } | { to: 'timestamp'; timestamp: number };

/**
 * Replay: reset a tier consumer's stored offsets (to the log start, an offset
 * or a timestamp) and forget the inbox entries at or after that point, so the
 * service reprocesses them. Outputs carry the same derived ids, so downstream
 * dedupe keeps effects exactly-once. The consumer is stopped while offsets
 * move and rejoins afterwards, seeking to the new stored offsets.
 */
export class ReplayOperations {
  constructor(private readonly runtime: EventRuntime) {}

  async replay(tier: Tier, target: ReplayTarget): Promise<{ tier: Tier; group: string; partitions: Array<{ topic: string; partition: number; offset: number }> }> {
    const consumer = this.runtime.consumerFor(tier);
    if (!consumer) throw new ClinmeshError('REPLAY.NO_CONSUMER', `service ${this.runtime.service} has no ${tier} consumer`, { status: 404 });
    const admin = this.runtime.kafkaAdmin;
    const targets: Array<{ topic: string; partition: number; offset: number }> = [];
    for (const topic of consumer.binding.topics) {
      const ends = await admin.fetchTopicOffsets(topic);
      if (target.to === 'timestamp') {
        const byTime = await admin.fetchTopicOffsetsByTimestamp(topic, target.timestamp);
        for (const p of byTime) targets.push({ topic, partition: p.partition, offset: Number(p.offset) });
      } else {
        for (const end of ends) {
          if (target.to === 'offset' && target.partition !== undefined && target.partition !== end.partition) continue;
          const offset = target.to === 'earliest' ? Number(end.low) : Math.max(Number(end.low), Math.min(target.offset, Number(end.high)));
          targets.push({ topic, partition: end.partition, offset });
        }
      }
    }
    await consumer.stop();
    try {
      await this.runtime.transaction(async (uow) => {
        for (const t of targets) {
          await uow.execute(
            `INSERT INTO cm_consumer_offsets (consumer_group, topic, partition, next_offset, cluster_id, updated_at) VALUES ($1, $2, $3, $4, $5, now())
             ON CONFLICT (consumer_group, topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset, cluster_id = EXCLUDED.cluster_id, updated_at = now()`,
            [consumer.groupId, t.topic, t.partition, t.offset, this.runtime.currentClusterId()],
          );
          await uow.execute('DELETE FROM cm_inbox WHERE consumer_group = $1 AND topic = $2 AND partition = $3 AND "offset" >= $4', [consumer.groupId, t.topic, t.partition, t.offset]);
        }
      });
      // Kafka-side offsets too, so lag tooling shows the replay; refused while other members are live.
      for (const topic of consumer.binding.topics) {
        const partitions = targets.filter((t) => t.topic === topic).map((t) => ({ partition: t.partition, offset: String(t.offset) }));
        await admin.setOffsets({ groupId: consumer.groupId, topic, partitions }).catch((err) =>
          this.runtime.logger.warn({ group: consumer.groupId, topic, err: String(err?.message ?? err) }, 'could not reset kafka-committed offsets (other members active); stored offsets were reset'));
      }
    } finally {
      await consumer.start();
    }
    this.runtime.logger.info({ group: consumer.groupId, target, partitions: targets.length }, 'replay: stored offsets reset');
    return { tier, group: consumer.groupId, partitions: targets };
  }
}
