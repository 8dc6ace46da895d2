import { Admin } from 'kafkajs';
import { Logger } from '@clinmesh/observability';

export interface PacingOptions {
  /**
   * Bytes a re-publication may put on one partition ahead of its slowest
   * consumer group. The embedded cluster keeps only the newest ~5 MB per
   * partition, so the default (2 MB) leaves room for new work beside it.
   */
  partitionBudgetBytes: number;
  /** A topic no consumer group reads yet is paced (as if unread) this long, then left unpaced. */
  noConsumerGraceMs: number;
  /** How long group and offset figures are reused (ms). */
  refreshMs: number;
}

export const DEFAULT_PACING: PacingOptions = { partitionBudgetBytes: 2 * 1024 * 1024, noConsumerGraceMs: 60_000, refreshMs: 150 };

export interface PacedRow {
  topic: string;
  bytes: number;
}

/**
 * Paces a re-publication by downstream progress: a topic's rows are admitted
 * only while every partition of it holds fewer unread records (log end minus
 * the slowest group's committed offset) than its byte budget allows, so a
 * re-publication of a day's outbox never pushes records off the embedded
 * cluster's per-partition window before the consumers read them. Topics over
 * budget are held (their rows stay in the outbox, in order); other topics go on.
 */
export class RepublishPacer {
  private readonly avgBytes = new Map<string, number>();
  private readonly unread = new Map<string, { at: number; max: number }>();
  private readonly startedAt = Date.now();

  /** `groupsFor(topic)`: the consumer groups that read the topic (the consumer directory). */
  constructor(
    private readonly admin: () => Admin,
    private readonly groupsFor: (topic: string) => string[],
    private readonly logger: Logger,
    readonly options: PacingOptions = DEFAULT_PACING,
  ) {}

  /** Records published (for the average record size per topic). */
  observe(rows: PacedRow[]): void {
    for (const r of rows) {
      const prev = this.avgBytes.get(r.topic);
      this.avgBytes.set(r.topic, prev === undefined ? r.bytes : prev * 0.9 + r.bytes * 0.1);
    }
  }

  /** Records a partition of `topic` may still take. */
  budgetRecords(topic: string): number {
    const avg = Math.max(200, this.avgBytes.get(topic) ?? 2048);
    return Math.max(1, Math.floor(this.options.partitionBudgetBytes / avg));
  }

  /**
   * The prefix (in order) of each topic's rows that may be published now; the
   * rest of that topic waits. Returns the admitted rows and the held topics.
   */
  async admit<T extends PacedRow>(rows: T[]): Promise<{ admitted: T[]; held: string[] }> {
    const perTopic = new Map<string, number>();
    for (const r of rows) {
      perTopic.set(r.topic, (perTopic.get(r.topic) ?? 0) + 1);
      if (!this.avgBytes.has(r.topic)) this.avgBytes.set(r.topic, r.bytes);
    }
    const room = new Map<string, number>();
    for (const topic of perTopic.keys()) {
      const unread = await this.maxUnread(topic);
      room.set(topic, unread === Infinity ? 0 : unread < 0 ? Number.MAX_SAFE_INTEGER : this.budgetRecords(topic) - unread);
    }
    const admitted: T[] = [];
    const held = new Set<string>();
    for (const r of rows) {
      const left = room.get(r.topic) ?? 0;
      if (left > 0 && !held.has(r.topic)) {
        admitted.push(r);
        room.set(r.topic, left - 1);
      } else {
        held.add(r.topic);
      }
    }
    return { admitted, held: [...held] };
  }

  /**
   * Largest count of unread records on a partition of `topic` (−1: unpaced,
   * no consumer after the grace period; Infinity: figures unavailable).
   */
  private async maxUnread(topic: string): Promise<number> {
    const cached = this.unread.get(topic);
    if (cached && Date.now() - cached.at < this.options.refreshMs) return cached.max;
    let max: number;
    try {
      const admin = this.admin();
      const ends = await admin.fetchTopicOffsets(topic);
      const groups = this.groupsFor(topic);
      if (!groups.length && Date.now() - this.startedAt >= this.options.noConsumerGraceMs) {
        max = -1;
      } else {
        const slowest = new Map<number, number>();
        for (const e of ends) slowest.set(e.partition, Number.MAX_SAFE_INTEGER);
        for (const groupId of groups) {
          const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
          for (const p of committed?.partitions ?? []) {
            const low = Number(ends.find((e) => e.partition === p.partition)?.low ?? 0);
            const at = Number(p.offset) < 0 ? low : Math.max(low, Number(p.offset));
            slowest.set(p.partition, Math.min(slowest.get(p.partition) ?? Number.MAX_SAFE_INTEGER, at));
          }
        }
        max = 0;
        for (const e of ends) {
          const from = groups.length ? slowest.get(e.partition)! : Number(e.low);
          max = Math.max(max, Number(e.high) - Math.min(from, Number(e.high)));
        }
      }
    } catch (error) {
      this.logger.warn({ topic, err: String((error as Error)?.message ?? error) }, 'pacing figures unavailable; holding the topic');
      max = Infinity;
    }
    this.unread.set(topic, { at: Date.now(), max });
    return max;
  }
}
