import { Admin, Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { DataSource } from 'typeorm';
import { Tier } from '@clinmesh/topology';
import { Logger, RuntimeMetrics } from '@clinmesh/observability';
import { AvroSerde } from '../serde/avro-serde';
import { OutboxWriter } from '../outbox/outbox.writer';
import { RuntimeRepository, poolQueries } from '../persistence/runtime.repository';
import { ConsumerDefinition } from './consumer-definition';
import { TierGovernor } from './tier-governor';
import { RetryPolicy } from './retry.policy';
import { BatchProcessor, errorCode } from './batch-processor';
import { errorSummary } from '../outbox/outbox.relay';

export { errorCode } from './batch-processor';

export interface EventConsumerOptions {
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** Kafka fetch max wait, per tier (the embedded cluster answers an empty fetch only after it). */
  maxWaitTimeMs: number | Partial<Record<Tier, number>>;
  partitionsConsumedConcurrently: number;
  chunkSize: number;
  maxInProcessAttempts: number;
  kafkaCommitIntervalMs: number;
}

export interface EventConsumerDeps {
  service: string;
  kafka: Kafka;
  admin: Admin;
  dataSource: DataSource;
  serde: AvroSerde;
  outbox: OutboxWriter;
  metrics: RuntimeMetrics;
  logger: Logger;
  governor: TierGovernor;
  clusterId: () => string;
}

interface PartitionPosition {
  next: number;
  lost?: { from: number; to: number };
}


/**
 * One Kafka consumer (own group `<service>.<name>`, own lag) for one
 * consumer definition: a tier of a stage, or a single event topic.
 * Stored offsets in the service database are the source of truth: on
 * assignment the consumer seeks to them, and a stored offset that retention
 * has passed stops that partition with a metric and an error naming the lost
 * range instead of skipping. Each chunk of messages commits effects, outbox
 * rows, inbox rows and the new stored offset in one transaction;
 * Kafka-committed offsets trail for lag tooling.
 */
export class EventConsumer {
  readonly groupId: string;
  private consumer: Consumer | null = null;
  private readonly positions = new Map<string, PartitionPosition>();
  private readonly yielded = new Map<string, { topic: string; partition: number }>();
  private lastKafkaCommit = 0;
  private readonly pendingKafkaCommits = new Map<string, { topic: string; partition: number; offset: string }>();
  private unsubscribeClear: (() => void) | null = null;
  private commitTimer: NodeJS.Timeout | null = null;
  private assignmentReady: Promise<void> = Promise.resolve();
  private readonly runtimeTables: RuntimeRepository;
  private readonly processor: BatchProcessor;

  constructor(private readonly deps: EventConsumerDeps, readonly definition: ConsumerDefinition, private readonly options: EventConsumerOptions) {
    this.groupId = `${deps.service}.${definition.name}`;
    this.runtimeTables = new RuntimeRepository(poolQueries(deps.dataSource));
    const retry = new RetryPolicy(options.maxInProcessAttempts, (error, attempt) => {
      this.deps.metrics.retries.inc({ tier: this.tier, code: errorCode(error) });
      this.deps.logger.warn({ group: this.groupId, attempt, err: errorSummary(error) }, 'retriable failure; backing off');
    });
    this.processor = new BatchProcessor(deps, this.groupId, definition, retry);
  }

  get tier(): Tier {
    return this.definition.tier;
  }

  get name(): string {
    return this.definition.name;
  }

  async start(): Promise<void> {
    const maxWait = this.definition.maxWaitTimeMs ?? (typeof this.options.maxWaitTimeMs === 'number' ? this.options.maxWaitTimeMs : this.options.maxWaitTimeMs[this.tier] ?? 250);
    const consumer = this.deps.kafka.consumer({
      groupId: this.groupId,
      sessionTimeout: this.options.sessionTimeoutMs,
      rebalanceTimeout: Math.max(this.options.sessionTimeoutMs, 10000),
      heartbeatInterval: this.options.heartbeatIntervalMs,
      maxWaitTimeInMs: maxWait,
      allowAutoTopicCreation: false,
      retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 5000 },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      // Assignment changed: every partition is re-validated against stored offsets and the
      // consumer seeks to them now, not on its first batch — a partition whose Kafka-committed
      // offset is ahead of the stored one (after a replay) would otherwise never get a batch.
      this.positions.clear();
      this.yielded.clear();
      this.deps.logger.info({ group: this.groupId, assignment: e.payload.memberAssignment }, 'consumer joined group');
      this.assignmentReady = this.seekToStoredOffsets(consumer, e.payload.memberAssignment).catch((err) =>
        this.deps.logger.error({ group: this.groupId, err: errorSummary(err) }, 'could not seek to stored offsets; will validate on first batch'));
    });
    consumer.on(consumer.events.CRASH, (e) => {
      this.deps.logger.error({ group: this.groupId, err: errorSummary(e.payload.error), restart: e.payload.restart }, 'consumer crashed');
    });
    await consumer.connect();
    for (const topic of this.definition.topics) await consumer.subscribe({ topic, fromBeginning: true });
    this.unsubscribeClear = this.deps.governor.onClear(() => this.resumeYielded());
    // Kafka-committed offsets trail the stored ones; flush them on a timer too, so an idle consumer's
    // group offsets catch up (lag tooling, and a re-publication paced by downstream progress reads them).
    this.commitTimer = setInterval(() => {
      if (this.consumer) void this.flushKafkaCommits(this.consumer, false);
    }, this.options.kafkaCommitIntervalMs);
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
    this.consumer = null;
    if (!consumer) return;
    await this.flushKafkaCommits(consumer, true).catch(() => undefined);
    await consumer.disconnect();
    for (const key of this.positions.keys()) this.deps.governor.forget(this.tier, key);
    this.positions.clear();
  }

  /** Positions this instance holds (for the operator API and tests). */
  status(): Array<{ topic: string; partition: number; next: number; lost?: { from: number; to: number } }> {
    return [...this.positions.entries()].map(([key, pos]) => {
      const [topic, partition] = splitKey(key);
      return { topic, partition, next: pos.next, lost: pos.lost };
    });
  }

  /** Operator decision after a reported loss: continue from the log start. */
  acceptLoss(topic: string, partition: number): boolean {
    const pos = this.positions.get(`${topic}:${partition}`);
    if (!pos?.lost || !this.consumer) return false;
    const to = pos.lost.to;
    pos.lost = undefined;
    pos.next = to;
    this.deps.metrics.offsetLost.set({ tier: this.tier, topic, partition: String(partition) }, 0);
    this.consumer.seek({ topic, partition, offset: String(to) });
    this.consumer.resume([{ topic, partitions: [partition] }]);
    return true;
  }

  /**
   * Redrive one dead letter through the same decode → handle → commit path,
   * in one transaction (see BatchProcessor.redrive).
   */
  redrive(deadLetterId: string, actor: string): Promise<{ id: string; status: 'redriven' | 'dead'; error?: string }> {
    return this.processor.redrive(deadLetterId, actor);
  }

  private async onBatch({ batch, resolveOffset, heartbeat, isRunning, isStale, pause }: EachBatchPayload): Promise<void> {
    const { topic, partition } = batch;
    const key = `${topic}:${partition}`;
    const high = Number(batch.highWatermark);
    await this.assignmentReady;
    let pos = this.positions.get(key);
    if (!pos) {
      pos = await this.validateAssignment(topic, partition);
      this.positions.set(key, pos);
    }
    if (pos.lost) {
      pause();
      return;
    }
    const first = Number(batch.firstOffset() ?? batch.highWatermark);
    if (first > pos.next) {
      if ((await this.logStart(topic, partition)) > pos.next) {
        // The log moved past the stored offset (retention): never skip silently.
        this.reportLoss(topic, partition, pos, pos.next, first);
        pause();
        return;
      }
      // kafkajs fetched from its committed offset, ahead of ours (e.g. after a replay): go back.
      this.consumer?.seek({ topic, partition, offset: String(pos.next) });
      this.deps.governor.report(this.tier, key, high - pos.next);
      return;
    }
    const messages = batch.messages.filter((m) => Number(m.offset) >= pos!.next);
    if (!messages.length) return;
    this.deps.governor.report(this.tier, key, high - pos.next);
    const chunkSize = this.definition.chunkSize ?? this.options.chunkSize;
    for (let i = 0; i < messages.length; i += chunkSize) {
      if (!isRunning() || isStale()) return;
      if (this.deps.governor.mustYield(this.tier)) {
        // Unresolved messages are fetched again after resume (kafkajs fetches from the resolved offset).
        this.deps.metrics.tierYields.inc({ tier: this.tier });
        this.yielded.set(key, { topic, partition });
        pause();
        if (!this.deps.governor.mustYield(this.tier)) this.resumeYielded();
        return;
      }
      const chunk = messages.slice(i, i + chunkSize);
      const last = Number(chunk[chunk.length - 1].offset);
      await this.processor.processChunk(topic, partition, chunk);
      resolveOffset(String(last));
      pos.next = last + 1;
      this.deps.governor.report(this.tier, key, high - pos.next);
      this.deps.metrics.consumerLag.set({ tier: this.tier, topic, partition: String(partition) }, Math.max(0, high - pos.next));
      this.pendingKafkaCommits.set(key, { topic, partition, offset: String(pos.next) });
      await heartbeat();
    }
    if (this.consumer) await this.flushKafkaCommits(this.consumer, false);
  }

  private async seekToStoredOffsets(consumer: Consumer, assignment: Record<string, number[]>): Promise<void> {
    for (const [topic, partitions] of Object.entries(assignment)) {
      for (const partition of partitions) {
        const pos = await this.validateAssignment(topic, partition);
        this.positions.set(`${topic}:${partition}`, pos);
        if (pos.lost) consumer.pause([{ topic, partitions: [partition] }]);
        else consumer.seek({ topic, partition, offset: String(pos.next) });
      }
    }
  }

  private resumeYielded(): void {
    if (!this.consumer || !this.yielded.size) return;
    const parts = [...this.yielded.values()];
    this.yielded.clear();
    this.consumer.resume(parts.map((p) => ({ topic: p.topic, partitions: [p.partition] })));
  }

  private async flushKafkaCommits(consumer: Consumer, force: boolean): Promise<void> {
    if (!this.pendingKafkaCommits.size) return;
    if (!force && Date.now() - this.lastKafkaCommit < this.options.kafkaCommitIntervalMs) return;
    const offsets = [...this.pendingKafkaCommits.values()];
    this.pendingKafkaCommits.clear();
    this.lastKafkaCommit = Date.now();
    // Kafka-committed offsets only feed lag tooling; the database is the source of truth.
    await consumer.commitOffsets(offsets).catch((err) => this.deps.logger.warn({ err: errorSummary(err), group: this.groupId }, 'kafka offset commit failed'));
  }

  private async logStart(topic: string, partition: number): Promise<number> {
    const offsets = await this.deps.admin.fetchTopicOffsets(topic);
    const p = offsets.find((o) => o.partition === partition);
    return Number(p?.low ?? 0);
  }

  private async validateAssignment(topic: string, partition: number): Promise<PartitionPosition> {
    const stored = await this.runtimeTables.storedOffset(this.groupId, topic, partition);
    const low = await this.logStart(topic, partition);
    if (!stored || stored.clusterId !== this.deps.clusterId()) {
      // New service, or a new (embedded, in-memory) cluster: start that cluster's log from its beginning.
      if (stored) this.deps.logger.warn({ group: this.groupId, topic, partition, storedCluster: stored.clusterId, cluster: this.deps.clusterId() }, 'stored offset belongs to another cluster; starting this cluster from its beginning');
      return { next: low };
    }
    if (stored.next < low) {
      const pos: PartitionPosition = { next: stored.next };
      this.reportLoss(topic, partition, pos, stored.next, low);
      return pos;
    }
    return { next: stored.next };
  }

  private reportLoss(topic: string, partition: number, pos: PartitionPosition, from: number, to: number): void {
    pos.lost = { from, to };
    this.deps.governor.forget(this.tier, `${topic}:${partition}`);
    this.deps.metrics.offsetLost.set({ tier: this.tier, topic, partition: String(partition) }, 1);
    this.deps.logger.error(
      { group: this.groupId, topic, partition, lostFrom: from, lostTo: to - 1, lostCount: to - from },
      'stored offset fell off the log: partition stopped, waiting for an operator decision (replay or accept-loss)',
    );
  }

}

function splitKey(key: string): [string, number] {
  const i = key.lastIndexOf(':');
  return [key.slice(0, i), Number(key.slice(i + 1))];
}
