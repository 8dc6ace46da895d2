import { Consumer, EachBatchPayload } from 'kafkajs';
import { errorSummary } from '../outbox/outbox.relay';
import type { EventConsumer, EventConsumerDeps, EventConsumerOptions } from './event-consumer';
import type { LanePlan } from './lanes';
import { BatchProcessor } from './batch-processor';
import { TransactionCombiner } from './transaction-combiner';

export interface TopicPartitions {
  topic: string;
  partitions: number[];
}

/**
 * One kafkajs consumer (one Kafka group, one fetch loop per broker, one
 * heartbeat) hosting several consumer definitions. Batches are routed by
 * topic to the definition that reads it (`EventConsumer`), which keeps
 * everything observable per definition: stored offsets, inbox, dead letters,
 * replay, loss detection and metrics under `<service>.<definition>`.
 * Tier yielding pauses single topic-partitions of this shared consumer.
 * Kafka-committed offsets (lag tooling, re-publication pacing) go to the
 * lane's group.
 */
export class ConsumerLane {
  readonly name: string;
  readonly groupId: string;
  readonly maxWaitTimeMs: number;
  private consumer: Consumer | null = null;
  private readonly byTopic = new Map<string, EventConsumer>();
  private assignment: Record<string, number[]> = {};
  private assignmentReady: Promise<unknown> = Promise.resolve();
  private readonly pendingKafkaCommits = new Map<string, { topic: string; partition: number; offset: string }>();
  private lastKafkaCommit = 0;
  private commitTimer: NodeJS.Timeout | null = null;
  private unsubscribeClear: (() => void) | null = null;
  /** Group commit of the hosted definitions' chunks (see transaction-combiner.ts); null when off. */
  readonly combiner: TransactionCombiner | null;

  constructor(private readonly deps: EventConsumerDeps, plan: LanePlan, readonly hosted: EventConsumer[], private readonly options: EventConsumerOptions) {
    this.name = plan.name;
    this.groupId = plan.groupId;
    this.maxWaitTimeMs = plan.maxWaitTimeMs;
    const combine = options.combineRecords ?? 0;
    this.combiner = combine > 0 ? new TransactionCombiner(combine, (parts) => BatchProcessor.commitParts(parts)) : null;
    for (const consumer of hosted) {
      for (const topic of consumer.definition.topics) this.byTopic.set(topic, consumer);
      consumer.attach(this);
    }
  }

  get topics(): string[] {
    return [...this.byTopic.keys()];
  }

  get running(): boolean {
    return this.consumer !== null;
  }

  async start(): Promise<void> {
    const consumer = this.deps.kafka.consumer({
      groupId: this.groupId,
      sessionTimeout: this.options.sessionTimeoutMs,
      rebalanceTimeout: Math.max(this.options.sessionTimeoutMs, 10000),
      heartbeatInterval: this.options.heartbeatIntervalMs,
      maxWaitTimeInMs: this.maxWaitTimeMs,
      allowAutoTopicCreation: false,
      retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 5000 },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      // Assignment changed: every hosted definition re-validates its partitions against its stored
      // offsets and seeks to them now, not on its first batch — a partition whose Kafka-committed
      // offset is ahead of the stored one (after a replay) would otherwise never get a batch.
      this.assignment = e.payload.memberAssignment;
      this.deps.logger.info({ group: this.groupId, assignment: e.payload.memberAssignment }, 'consumer lane joined group');
      this.assignmentReady = Promise.all(this.hosted.map((h) => h.assigned(this.assignedTo(h)).catch((err) =>
        this.deps.logger.error({ group: h.groupId, lane: this.groupId, err: errorSummary(err) }, 'could not seek to stored offsets; will validate on first batch'))));
    });
    consumer.on(consumer.events.CRASH, (e) => {
      this.deps.logger.error({ group: this.groupId, err: errorSummary(e.payload.error), restart: e.payload.restart }, 'consumer lane crashed');
    });
    await consumer.connect();
    for (const topic of this.topics) await consumer.subscribe({ topic, fromBeginning: true });
    this.unsubscribeClear = this.deps.governor.onClear(() => {
      for (const h of this.hosted) h.resumeYielded();
    });
    // Kafka-committed offsets trail the stored ones; flush them on a timer too, so an idle lane's
    // group offsets catch up (lag tooling, and a re-publication paced by downstream progress reads them).
    this.commitTimer = setInterval(() => void this.flushKafkaCommits(false), this.options.kafkaCommitIntervalMs);
    this.commitTimer.unref();
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.onBatch(payload),
    });
  }

  async stop(): Promise<void> {
    this.unsubscribeClear?.();
    if (this.commitTimer) clearInterval(this.commitTimer);
    const consumer = this.consumer;
    if (!consumer) return;
    await this.flushKafkaCommits(true).catch(() => undefined);
    this.consumer = null;
    await consumer.disconnect();
    this.assignment = {};
    for (const h of this.hosted) h.detach();
  }

  /** Leaves the group and joins again (a rebalance: every member seeks to the stored offsets). */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** The partitions of `consumer`'s topics this lane holds now. */
  assignedTo(consumer: EventConsumer): TopicPartitions[] {
    return consumer.definition.topics.map((topic) => ({ topic, partitions: [...(this.assignment[topic] ?? [])] }));
  }

  seek(topic: string, partition: number, offset: number): void {
    this.consumer?.seek({ topic, partition, offset: String(offset) });
  }

  pause(parts: TopicPartitions[]): void {
    const nonEmpty = parts.filter((p) => p.partitions.length);
    if (this.consumer && nonEmpty.length) this.consumer.pause(nonEmpty);
  }

  resume(parts: TopicPartitions[]): void {
    const nonEmpty = parts.filter((p) => p.partitions.length);
    if (this.consumer && nonEmpty.length) this.consumer.resume(nonEmpty);
  }

  /** Kafka-committed offset to flush with the next commit (trails the stored offset). */
  commitLater(topic: string, partition: number, next: number): void {
    this.pendingKafkaCommits.set(`${topic}:${partition}`, { topic, partition, offset: String(next) });
  }

  /** Drops pending Kafka commits of these topics (a replay is about to move them). */
  forgetCommits(topics: readonly string[]): void {
    for (const [key, c] of this.pendingKafkaCommits) if (topics.includes(c.topic)) this.pendingKafkaCommits.delete(key);
  }

  async flushKafkaCommits(force: boolean): Promise<void> {
    const consumer = this.consumer;
    if (!consumer || !this.pendingKafkaCommits.size) return;
    if (!force && Date.now() - this.lastKafkaCommit < this.options.kafkaCommitIntervalMs) return;
    const offsets = [...this.pendingKafkaCommits.values()];
    this.pendingKafkaCommits.clear();
    this.lastKafkaCommit = Date.now();
    // Kafka-committed offsets only feed lag tooling and pacing; the database is the source of truth.
    await consumer.commitOffsets(offsets).catch((err) => this.deps.logger.warn({ err: errorSummary(err), group: this.groupId }, 'kafka offset commit failed'));
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const hosted = this.byTopic.get(payload.batch.topic);
    if (!hosted) return;
    await this.assignmentReady;
    await hosted.onBatch(payload);
    await this.flushKafkaCommits(false);
  }
}
