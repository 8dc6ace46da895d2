import { Admin, EachBatchPayload, Kafka } from 'kafkajs';
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
import { GatheredBatches, shouldGather } from './batch-gatherer';
import { TierSetting, tierValue } from './tier-setting';
import { errorSummary } from '../outbox/outbox.relay';
import type { ConsumerLane, TopicPartitions } from './consumer-lane';
import type { LaneMode } from './lanes';
import { BulkPacing, DEFAULT_BULK_PACING, bulkPauseMs, pacedChunkSize } from './bulk-pacing';

export { errorCode } from './batch-processor';

export interface EventConsumerOptions {
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** Kafka fetch max wait, per tier (the embedded cluster answers an empty fetch only after it). */
  maxWaitTimeMs: TierSetting;
  partitionsConsumedConcurrently: number;
  chunkSize: number;
  maxInProcessAttempts: number;
  kafkaCommitIntervalMs: number;
  /** How definitions share kafkajs consumers (see lanes.ts); default `stat-main`. */
  lanes: LaneMode;
  /** Chunks a yielding tier (routine, bulk) handles of one fetched batch before the lane fetches again. */
  yieldingChunksPerBatch: number;
  /** How long, per tier, a consumer with a backlog gathers small fetched batches into one chunk (batch-gatherer.ts); 0 = never. */
  gatherMs?: TierSetting;
  /** Most records the chunks of one lane's definitions share in one transaction (transaction-combiner.ts); 0 = every chunk alone. */
  combineRecords?: number;
  /**
   * Bulk pacing: while stat or urgent had backlog in this service within `withinMs`, the service's
   * bulk work rests after each chunk so bulk takes at most `share` of its time (the rest is the
   * chunk's own duration × (1 − share) / share, at most `maxPauseMs`), one rest for every bulk
   * partition of the service (`BulkRest`). `share` 1 turns it off.
   */
  bulkPacing?: BulkPacing;
}

/** A hold expires (dropped, fetched again) only when no fetch continued it for this long. */
const GATHER_EXPIRY_MIN_MS = 2000;

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
 * One consumer definition (a tier of a stage, or a single event topic) hosted
 * on a consumer lane (`ConsumerLane`: one kafkajs consumer shared by several
 * definitions). Everything observable stays per definition, under its id
 * `<service>.<name>`: stored offsets, inbox, dead letters, replay, loss
 * detection, metrics. Stored offsets in the service database are the source
 * of truth: on assignment the definition seeks its partitions to them, and a
 * stored offset that retention has passed stops that partition with a metric
 * and an error naming the lost range instead of skipping. Each chunk of
 * messages commits effects, outbox rows, inbox rows and the new stored offset
 * in one transaction; Kafka-committed offsets (the lane's group) trail for lag
 * tooling.
 */
export class EventConsumer {
  /** The definition's id `<service>.<name>`: stored offsets, inbox, dead letters. */
  readonly groupId: string;
  private lane: ConsumerLane | null = null;
  private readonly positions = new Map<string, PartitionPosition>();
  private readonly yielded = new Map<string, { topic: string; partition: number }>();
  /** Bulk partitions waiting out the service's bulk rest (pacing), with the timer that resumes them. */
  private readonly paced = new Map<string, NodeJS.Timeout>();
  private readonly gathered = new GatheredBatches((key) => this.gatherExpired(key));
  private readonly noGather = new Set<string>();
  private suspended = false;
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];
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

  /** The Kafka group of the lane hosting this definition (Kafka-committed offsets, lag, pacing). */
  get kafkaGroupId(): string {
    return this.lane?.groupId ?? this.groupId;
  }

  /** Called once by the lane that hosts this definition. */
  attach(lane: ConsumerLane): void {
    this.lane = lane;
  }

  /** The lane left its group (stopped): nothing is held any more. */
  detach(): void {
    for (const key of this.positions.keys()) this.deps.governor.forget(this.tier, key);
    this.positions.clear();
    this.yielded.clear();
    this.clearPacing();
    this.gathered.clear();
    this.noGather.clear();
  }

  /**
   * The lane (re)joined its group and holds `assignment` of this definition's
   * topics: validate every partition against the stored offsets and seek to them.
   */
  async assigned(assignment: TopicPartitions[]): Promise<void> {
    for (const key of this.positions.keys()) this.deps.governor.forget(this.tier, key);
    this.positions.clear();
    // Held (gathered) messages were resolved, not processed: the seek below fetches them again.
    this.gathered.clear();
    this.noGather.clear();
    // kafkajs keeps a paused partition paused across a rejoin: a yielded or pacing one would never resume.
    this.resumeYielded();
    this.resumePaced();
    await this.seekToStoredOffsets(assignment);
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
    if (!pos?.lost || !this.lane?.running) return false;
    const to = pos.lost.to;
    pos.lost = undefined;
    pos.next = to;
    this.deps.metrics.offsetLost.set({ tier: this.tier, topic, partition: String(partition) }, 0);
    this.lane.seek(topic, partition, to);
    this.lane.resume([{ topic, partitions: [partition] }]);
    return true;
  }

  /**
   * Redrive one dead letter through the same decode → handle → commit path,
   * in one transaction (see BatchProcessor.redrive).
   */
  redrive(deadLetterId: string, actor: string): Promise<{ id: string; status: 'redriven' | 'dead'; error?: string }> {
    return this.processor.redrive(deadLetterId, actor);
  }

  /**
   * Stops this definition only (the lane and its other definitions go on):
   * its partitions are paused and the chunk in progress finishes. Used by
   * replay while it moves the stored offsets.
   */
  async suspend(): Promise<void> {
    this.suspended = true;
    this.gathered.clear();
    this.lane?.pause(this.lane.assignedTo(this));
    this.lane?.forgetCommits(this.definition.topics);
    while (this.inFlight > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    this.lane?.forgetCommits(this.definition.topics);
  }

  /**
   * After `suspend`: re-read the stored offsets (a replay moved them), seek
   * there, resume, and let the Kafka-committed offsets of the lane's group
   * show the new positions (lag tooling).
   */
  async resumeFromStored(moved: Array<{ topic: string; partition: number }> = []): Promise<void> {
    const lane = this.lane;
    this.suspended = false;
    if (!lane?.running) return;
    const assignment = lane.assignedTo(this);
    const held = new Set(assignment.flatMap(({ topic, partitions }) => partitions.map((p) => `${topic}:${p}`)));
    if (moved.some((m) => !held.has(`${m.topic}:${m.partition}`))) {
      // Another replica holds some of the moved partitions: rejoining rebalances the lane's group,
      // and every member seeks its partitions to the stored offsets again.
      await lane.restart();
      return;
    }
    await this.assigned(assignment);
    lane.resume(assignment.map(({ topic, partitions }) => ({ topic, partitions: partitions.filter((p) => !this.positions.get(`${topic}:${p}`)?.lost) })));
    for (const [key, pos] of this.positions) {
      const [topic, partition] = splitKey(key);
      lane.commitLater(topic, partition, pos.next);
    }
    await lane.flushKafkaCommits(true);
  }

  /** Resumes partitions that yielded to a higher tier (the governor says the higher tiers are clear). */
  resumeYielded(): void {
    if (!this.lane || !this.yielded.size) return;
    const parts = [...this.yielded.values()];
    this.yielded.clear();
    this.lane.resume(parts.map((p) => ({ topic: p.topic, partitions: [p.partition] })));
  }

  /** Resumes every pacing partition now (a rejoin; a stop). */
  private resumePaced(): void {
    if (!this.paced.size) return;
    const keys = [...this.paced.keys()];
    this.clearPacing();
    this.lane?.resume(keys.map((k) => { const [topic, partition] = splitKey(k); return { topic, partitions: [partition] }; }));
  }

  private clearPacing(): void {
    for (const t of this.paced.values()) clearTimeout(t);
    this.paced.clear();
  }

  /** This definition's chunk size; smaller for bulk while a higher tier is active here (bulk-pacing.ts). */
  private chunkSizeNow(): number {
    const size = this.definition.chunkSize ?? this.options.chunkSize;
    return this.bulkPaced ? pacedChunkSize(size, this.pacing) : size;
  }

  private get pacing(): BulkPacing {
    return this.options.bulkPacing ?? DEFAULT_BULK_PACING;
  }

  /** Whether this is bulk work while a higher tier is active here (bulk-pacing.ts). */
  private get bulkPaced(): boolean {
    return this.tier === 'bulk' && this.pacing.share < 1 && this.deps.governor.activeAbove(this.tier, this.pacing.withinMs);
  }

  /** Like a yield, but resumed by time: the rest of the partition is fetched again from the stored position. */
  private restPartition(key: string, topic: string, partition: number, pause: () => void, ms: number): void {
    pause();
    if (this.paced.has(key)) return;
    this.deps.metrics.tierYields.inc({ tier: this.tier });
    const timer = setTimeout(() => {
      this.paced.delete(key);
      this.lane?.resume([{ topic, partitions: [partition] }]);
    }, ms);
    timer.unref();
    this.paced.set(key, timer);
  }

  async onBatch(payload: EachBatchPayload): Promise<void> {
    this.inFlight++;
    try {
      await this.handleBatch(payload);
    } finally {
      if (--this.inFlight === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
    }
  }

  private async handleBatch({ batch, resolveOffset, heartbeat, isRunning, isStale, pause }: EachBatchPayload): Promise<void> {
    const { topic, partition } = batch;
    const key = `${topic}:${partition}`;
    const high = Number(batch.highWatermark);
    if (this.suspended) {
      this.gathered.drop(key);
      pause();
      return;
    }
    let pos = this.positions.get(key);
    if (!pos) {
      pos = (await this.validateAssignment(topic, partition)).pos;
      this.positions.set(key, pos);
    }
    if (pos.lost) {
      this.gathered.drop(key);
      pause();
      return;
    }
    // Where this fetch must continue: after what is held (gathering), else at the stored position.
    const expected = this.gathered.nextOffset(key) ?? pos.next;
    const first = Number(batch.firstOffset() ?? batch.highWatermark);
    if (first > expected) {
      this.gathered.drop(key);
      if ((await this.logBounds(topic, partition)).low > pos.next) {
        // The log moved past the stored offset (retention): never skip silently.
        this.reportLoss(topic, partition, pos, pos.next, first);
        pause();
        return;
      }
      // kafkajs fetched from its committed offset, ahead of ours (e.g. after a replay): go back.
      this.lane?.seek(topic, partition, pos.next);
      this.deps.governor.report(this.tier, key, high - pos.next);
      return;
    }
    const fresh = batch.messages.filter((m) => Number(m.offset) >= expected);
    if (!fresh.length) return;
    const { messages, since, resolvedAhead } = this.gathered.take(key, fresh);
    this.deps.governor.report(this.tier, key, high - pos.next);
    const chunkSize = this.chunkSizeNow();
    const last = Number(messages[messages.length - 1].offset);
    const gatherMs = this.gatherMs;
    if (!this.noGather.delete(key) && isRunning() && !isStale()
      && shouldGather({ buffered: messages.length, caughtUp: last + 1 >= high, ageMs: Date.now() - since, chunkSize, gatherMs })) {
      // A backlog arriving one small record batch per fetch (see batch-gatherer.ts): hold it and let
      // kafkajs fetch on from after it; the stored offset still says what was processed.
      this.gathered.hold(key, messages, since, Math.max(GATHER_EXPIRY_MIN_MS, 5 * gatherMs));
      resolveOffset(String(last));
      await heartbeat();
      return;
    }
    // A lane fetches a broker's next batches only when all of the current ones are handled: a
    // yielding tier handles a bounded part of its batch, the rest is fetched again (from the
    // resolved offset) with whatever a higher tier has by then.
    const maxChunks = this.deps.governor.yields(this.tier) ? Math.max(1, this.options.yieldingChunksPerBatch) : Number.MAX_SAFE_INTEGER;
    for (let i = 0, n = 0; i < messages.length && n < maxChunks; i += chunkSize, n++) {
      if (!isRunning() || isStale() || this.suspended) break;
      if (this.deps.governor.mustYield(this.tier)) {
        // Unprocessed messages are fetched again after resume, from the stored position.
        this.deps.metrics.tierYields.inc({ tier: this.tier });
        this.yielded.set(key, { topic, partition });
        pause();
        if (!this.deps.governor.mustYield(this.tier)) this.resumeYielded();
        break;
      }
      // Whether this chunk is paced bulk, decided once: its rest check, its hold and its rest go together.
      const paced = this.bulkPaced;
      const restMs = paced ? this.deps.governor.bulkRest.remainingMs() : 0;
      if (restMs > 0) {
        // The service's paced bulk work rests as a whole: this partition waits the rest out.
        this.restPartition(key, topic, partition, pause, restMs);
        break;
      }
      const chunk = messages.slice(i, i + chunkSize);
      const chunkLast = Number(chunk[chunk.length - 1].offset);
      const chunkStarted = Date.now();
      if (paced) this.deps.governor.bulkRest.begin();
      await this.processor.processChunk(topic, partition, chunk, this.lane?.combiner ?? undefined);
      resolveOffset(String(chunkLast));
      pos.next = chunkLast + 1;
      this.deps.governor.report(this.tier, key, high - pos.next);
      this.deps.metrics.consumerLag.set({ tier: this.tier, topic, partition: String(partition) }, Math.max(0, high - pos.next));
      this.lane?.commitLater(topic, partition, pos.next);
      await heartbeat();
      if (paced) {
        // The service's bulk work rests so that bulk keeps its share.
        const chunkMs = Date.now() - chunkStarted;
        this.deps.governor.bulkRest.rest(chunkMs, bulkPauseMs(chunkMs, this.pacing));
      }
    }
    // Gathered messages were resolved before they were processed: kafkajs would fetch on after
    // them. Whatever of them is left unprocessed (a yield, a stop, a bounded share) is fetched
    // again from the stored position.
    if (resolvedAhead && pos.next <= last && this.lane?.running) this.lane.seek(topic, partition, pos.next);
  }

  /** A hold no fetch continued: drop it (done by the gatherer) and fetch again from the stored position, without gathering. */
  private gatherExpired(key: string): void {
    const pos = this.positions.get(key);
    if (!pos || pos.lost || !this.lane?.running) return;
    const [topic, partition] = splitKey(key);
    this.noGather.add(key);
    this.lane.seek(topic, partition, pos.next);
  }

  private get gatherMs(): number {
    return tierValue(this.options.gatherMs, this.tier, 0);
  }

  private async seekToStoredOffsets(assignment: TopicPartitions[]): Promise<void> {
    for (const { topic, partitions } of assignment) {
      for (const partition of partitions) {
        const { pos, high } = await this.validateAssignment(topic, partition);
        const key = `${topic}:${partition}`;
        this.positions.set(key, pos);
        if (pos.lost) this.lane?.pause([{ topic, partitions: [partition] }]);
        else {
          this.lane?.seek(topic, partition, pos.next);
          // The exact lag from now on: a backlog the lag poller reported for this partition before this
          // instance held it (from Kafka-committed offsets, absent on a new cluster) must not outlive it —
          // an idle stat partition sends no batch to correct it, and routine would yield to it for good.
          const lag = Math.max(0, high - pos.next);
          this.deps.governor.report(this.tier, key, lag);
          this.deps.metrics.consumerLag.set({ tier: this.tier, topic, partition: String(partition) }, lag);
        }
      }
    }
  }

  /** The partition's log start and end, in one request. */
  private async logBounds(topic: string, partition: number): Promise<{ low: number; high: number }> {
    const p = (await this.deps.admin.fetchTopicOffsets(topic)).find((o) => o.partition === partition);
    return { low: Number(p?.low ?? 0), high: Number(p?.high ?? 0) };
  }

  /** The stored position of a partition, checked against its log (the end comes with it, for the lag). */
  private async validateAssignment(topic: string, partition: number): Promise<{ pos: PartitionPosition; high: number }> {
    const stored = await this.runtimeTables.storedOffset(this.groupId, topic, partition);
    const { low, high } = await this.logBounds(topic, partition);
    if (!stored || stored.clusterId !== this.deps.clusterId()) {
      // New service, or a new (embedded, in-memory) cluster: start that cluster's log from its beginning.
      if (stored) this.deps.logger.warn({ group: this.groupId, topic, partition, storedCluster: stored.clusterId, cluster: this.deps.clusterId() }, 'stored offset belongs to another cluster; starting this cluster from its beginning');
      return { pos: { next: low }, high };
    }
    if (stored.next < low) {
      const pos: PartitionPosition = { next: stored.next };
      this.reportLoss(topic, partition, pos, stored.next, low);
      return { pos, high };
    }
    return { pos: { next: stored.next }, high };
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
