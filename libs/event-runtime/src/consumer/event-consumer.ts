import { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { DataSource } from 'typeorm';
import { EVENT_TOPICS, Tier, deadLetterTopic } from '@clinmesh/topology';
import type { OperationsEvent } from '@clinmesh/schemas';
import { ClinmeshError, isRetriable } from '@clinmesh/errors';
import { Logger, RuntimeMetrics, withLogContext } from '@clinmesh/observability';
import { AvroSerde } from '../serde/avro-serde';
import { OutboxWriter, OutgoingEvent } from '../outbox/outbox.writer';
import { UnitOfWork, inTransaction } from '../persistence/unit-of-work';
import { RuntimeRepository, StoredDeadLetter, poolQueries } from '../persistence/runtime.repository';
import { HEADER, headersToRecord, readMetadata } from '../event-headers';
import { deriveEventId } from '../event-id';
import { eventContext, originOf } from '../publish/event-context';
import { InboundEvent } from './inbound-event';
import { ConsumerDefinition } from './consumer-definition';
import { TierGovernor } from './tier-governor';
import { RetryPolicy } from './retry.policy';
import { errorSummary } from '../outbox/outbox.relay';

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

interface DecodedRecord {
  topic: string;
  partition: number;
  message: KafkaMessage;
  offset: number;
  event?: InboundEvent<unknown>;
  decodeError?: ClinmeshError;
}

/** Outcome of one record, counted after its transaction committed. */
type Outcome = 'processed' | 'duplicate' | 'dead_lettered';

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
  private readonly retry: RetryPolicy;
  private readonly runtimeTables: RuntimeRepository;

  constructor(private readonly deps: EventConsumerDeps, readonly definition: ConsumerDefinition, private readonly options: EventConsumerOptions) {
    this.groupId = `${deps.service}.${definition.name}`;
    this.runtimeTables = new RuntimeRepository(poolQueries(deps.dataSource));
    this.retry = new RetryPolicy(options.maxInProcessAttempts, (error, attempt) => {
      this.deps.metrics.retries.inc({ tier: this.tier, code: errorCode(error) });
      this.deps.logger.warn({ group: this.groupId, attempt, err: errorSummary(error) }, 'retriable failure; backing off');
    });
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
   * in one transaction: the dead letter is locked, its inbox entry forgotten,
   * the event handled, the dead letter marked redriven and a REDRIVEN
   * operations event emitted — or none of it.
   */
  async redrive(deadLetterId: string, actor: string): Promise<{ id: string; status: 'redriven' | 'dead'; error?: string }> {
    const sink: OutgoingEvent[] = [];
    let outcomes: Array<{ record: DecodedRecord; outcome: Outcome }> = [];
    try {
      const already = await inTransaction(this.deps.dataSource, async (uow) => {
        const tables = new RuntimeRepository(uow);
        const dl = await tables.deadLetter(deadLetterId, true);
        if (!dl) throw new ClinmeshError('DEAD_LETTER.NOT_FOUND', `dead letter ${deadLetterId} not found`, { status: 404 });
        if (dl.status === 'redriven') return true;
        const record = await this.decode(dl.topic, dl.partition, storedMessage(dl), dl.offset);
        if (record.decodeError) throw record.decodeError;
        await tables.forgetInbox(this.groupId, dl.topic, dl.partition, dl.offset, true);
        outcomes = await this.handleInTransaction(uow, [record], sink);
        await tables.markRedriven(deadLetterId);
        this.emitOperations(uow, sink, dl, 'REDRIVEN', { actor });
        await this.deps.outbox.write(uow, sink);
        return false;
      });
      if (already) return { id: deadLetterId, status: 'redriven' };
    } catch (error) {
      if (error instanceof ClinmeshError && error.code === 'DEAD_LETTER.NOT_FOUND') throw error;
      const message = String((error as Error)?.message ?? error).slice(0, 1000);
      const failed: OutgoingEvent[] = [];
      await inTransaction(this.deps.dataSource, async (uow) => {
        const tables = new RuntimeRepository(uow);
        const dl = await tables.deadLetter(deadLetterId);
        if (!dl) return;
        await tables.recordRedriveError(deadLetterId, message);
        this.emitOperations(uow, failed, dl, 'REDRIVE_FAILED', { actor, errorCode: errorCode(error), errorMessage: message });
        await this.deps.outbox.write(uow, failed);
      });
      this.deps.outbox.committed();
      return { id: deadLetterId, status: 'dead', error: message };
    }
    this.deps.outbox.committed();
    this.countOutcomes(outcomes, 0);
    return { id: deadLetterId, status: 'redriven' };
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
      await this.processChunk(topic, partition, chunk);
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

  private async decode(topic: string, partition: number, message: KafkaMessage, offset = Number(message.offset)): Promise<DecodedRecord> {
    const headers = headersToRecord(message.headers);
    const meta = readMetadata(headers);
    const record: DecodedRecord = { topic, partition, message, offset };
    const eventId = meta.eventId ?? `${topic}/${partition}/${offset}`;
    try {
      const { value, schemaId } = await this.deps.serde.decode(message.value, this.definition.schema);
      record.event = {
        eventId,
        correlationId: meta.correlationId ?? eventId,
        causationId: meta.causationId,
        traceparent: meta.traceparent,
        tier: meta.tier ?? this.tier,
        source: meta.source,
        receivedAt: meta.receivedAt,
        eventType: meta.eventType,
        topic,
        partition,
        offset,
        key: message.key ? message.key.toString('utf8') : null,
        headers,
        schemaId,
        value,
      };
    } catch (error) {
      if (isRetriable(error)) throw error;
      record.decodeError = error instanceof ClinmeshError ? error : new ClinmeshError('SERDE.UNDECODABLE', String((error as Error)?.message ?? error));
    }
    return record;
  }

  private async processChunk(topic: string, partition: number, messages: KafkaMessage[]): Promise<void> {
    const records = await this.retry.run(() => Promise.all(messages.map((m) => this.decode(topic, partition, m))));
    try {
      await this.commitRecords(records);
    } catch (error) {
      if (records.length === 1) return this.processSingle(records[0], error);
      // Isolate the failing record: replay the chunk one record per transaction.
      for (const record of records) {
        try {
          await this.commitRecords([record]);
        } catch (singleError) {
          await this.processSingle(record, singleError);
        }
      }
    }
  }

  /** A record whose transaction failed: retry if retriable, else dead-letter it and move on. */
  private async processSingle(record: DecodedRecord, firstError: unknown): Promise<void> {
    const tally = { attempts: 1 };
    try {
      if (!isRetriable(firstError)) throw firstError;
      this.deps.metrics.retries.inc({ tier: this.tier, code: errorCode(firstError) });
      await this.retry.run(() => this.commitRecords([record]), tally);
    } catch (error) {
      // Still failing on an infrastructure error: never dead-letter for that. Throwing makes
      // kafkajs restart the consumer and refetch from the last resolved offset.
      if (isRetriable(error)) throw error;
      await this.deadLetter(record, error, tally.attempts);
    }
  }

  /** One transaction for a chunk: dedupe, handle, inbox, outbox, stored offset. */
  private async commitRecords(records: DecodedRecord[]): Promise<void> {
    const started = process.hrtime.bigint();
    const sink: OutgoingEvent[] = [];
    const outcomes = await inTransaction(this.deps.dataSource, async (uow) => {
      const result = await this.handleInTransaction(uow, records, sink);
      await this.deps.outbox.write(uow, sink);
      await this.storeOffsets(new RuntimeRepository(uow), records);
      return result;
    });
    this.deps.outbox.committed();
    this.countOutcomes(outcomes, Number(process.hrtime.bigint() - started) / 1e9 / Math.max(1, records.length));
  }

  /** Inside the caller's transaction: dead-letter undecodable records, skip seen ones, handle the rest, record them in the inbox. */
  private async handleInTransaction(uow: UnitOfWork, records: DecodedRecord[], sink: OutgoingEvent[]): Promise<Array<{ record: DecodedRecord; outcome: Outcome }>> {
    const tables = new RuntimeRepository(uow);
    const seen = await tables.seenEventIds(this.groupId, records.filter((r) => r.event).map((r) => r.event!.eventId));
    const outcomes: Array<{ record: DecodedRecord; outcome: Outcome }> = [];
    const toHandle: DecodedRecord[] = [];
    for (const record of records) {
      if (record.decodeError) {
        await this.writeDeadLetter(uow, sink, record, record.decodeError, 1);
        outcomes.push({ record, outcome: 'dead_lettered' });
      } else if (seen.has(record.event!.eventId)) {
        outcomes.push({ record, outcome: 'duplicate' });
      } else {
        seen.add(record.event!.eventId);
        toHandle.push(record);
        outcomes.push({ record, outcome: 'processed' });
      }
    }
    if (toHandle.length && this.definition.prepare) await this.definition.prepare(toHandle.map((r) => r.event!), uow);
    for (const record of toHandle) {
      const event = record.event!;
      await withLogContext({ correlationId: event.correlationId, eventId: event.eventId, tier: event.tier }, () =>
        this.definition.handle(event, eventContext(uow, originOf(event), sink)));
    }
    await tables.insertInbox(this.groupId, toHandle.map((r) => ({ eventId: r.event!.eventId, topic: r.topic, partition: r.partition, offset: r.offset })));
    return outcomes;
  }

  private countOutcomes(outcomes: Array<{ record: DecodedRecord; outcome: Outcome }>, secondsPerEvent: number): void {
    const now = Date.now();
    for (const { record, outcome } of outcomes) {
      const tier = record.event?.tier ?? this.tier;
      this.deps.metrics.consumed.inc({ tier, topic: record.topic, outcome });
      if (outcome === 'dead_lettered') this.deps.metrics.deadLetters.inc({ tier: this.tier, code: record.decodeError?.code ?? 'UNKNOWN' });
      if (outcome === 'processed') {
        this.deps.metrics.processingSeconds.observe({ tier }, secondsPerEvent);
        if (record.event?.receivedAt) this.deps.metrics.endToEndSeconds.observe({ tier, stage: this.deps.service }, (now - record.event.receivedAt) / 1000);
      }
    }
  }

  /** The chunk's partition (one per chunk) moves to after its last record. */
  private async storeOffsets(tables: RuntimeRepository, records: DecodedRecord[]): Promise<void> {
    const last = new Map<string, { topic: string; partition: number; next: number }>();
    for (const r of records) last.set(`${r.topic}:${r.partition}`, { topic: r.topic, partition: r.partition, next: r.offset + 1 });
    await tables.storeOffsets(this.groupId, this.deps.clusterId(), [...last.values()]);
  }

  private async deadLetter(record: DecodedRecord, error: unknown, attempts: number): Promise<void> {
    const code = errorCode(error);
    const sink: OutgoingEvent[] = [];
    await inTransaction(this.deps.dataSource, async (uow) => {
      const tables = new RuntimeRepository(uow);
      await this.writeDeadLetter(uow, sink, record, error, attempts);
      await tables.insertInbox(this.groupId, [{ eventId: record.event?.eventId ?? `${record.topic}/${record.partition}/${record.offset}`, topic: record.topic, partition: record.partition, offset: record.offset }]);
      await this.deps.outbox.write(uow, sink);
      await this.storeOffsets(tables, [record]);
    });
    this.deps.outbox.committed();
    this.deps.metrics.deadLetters.inc({ tier: this.tier, code });
    this.deps.metrics.consumed.inc({ tier: this.tier, topic: record.topic, outcome: 'dead_lettered' });
  }

  /** The dead letter row, its DeadLetter event (original bytes) and a DEAD_LETTERED operations event, in the caller's transaction. */
  private async writeDeadLetter(uow: UnitOfWork, sink: OutgoingEvent[], record: DecodedRecord, error: unknown, attempts: number): Promise<void> {
    const id = deriveEventId(`${this.groupId}/${record.topic}/${record.partition}/${record.offset}`, 'dead-letter');
    const headers = headersToRecord(record.message.headers);
    const code = errorCode(error);
    const message = String((error as Error)?.message ?? error).slice(0, 1000);
    const correlationId = headers[HEADER.correlationId] ?? id;
    this.deps.logger.error({ group: this.groupId, topic: record.topic, partition: record.partition, offset: record.offset, code, deadLetterId: id, correlationId }, 'event dead-lettered');
    const row = {
      id, consumerGroup: this.groupId, tier: this.tier, topic: record.topic, partition: record.partition, offset: record.offset,
      key: record.message.key ?? null, value: record.message.value ?? null, headers, errorCode: code, errorMessage: message, attempts,
    };
    await new RuntimeRepository(uow).writeDeadLetter(row);
    const ctx = eventContext(uow, { id, correlationId, tier: this.tier, source: headers[HEADER.source] }, sink);
    ctx.emit({
      topic: deadLetterTopic(this.deps.service),
      key: record.message.key ? record.message.key.toString('utf8') : null,
      eventId: id,
      value: {
        eventId: id, service: this.deps.service, consumerGroup: this.groupId, topic: record.topic, partition: record.partition,
        offset: record.offset, key: record.message.key ?? null, value: record.message.value ?? null, headers, errorCode: code,
        errorMessage: message, failedAt: Date.now(), attempts,
      },
    });
    this.emitOperations(uow, sink, { ...row, status: 'dead', failedAt: new Date(), redrivenAt: null, lastRedriveError: null }, 'DEAD_LETTERED', { errorCode: code, errorMessage: message });
  }

  private emitOperations(uow: UnitOfWork, sink: OutgoingEvent[], dl: StoredDeadLetter, kind: OperationsEvent['kind'], extra: { actor?: string; errorCode?: string; errorMessage?: string }): void {
    const correlationId = dl.headers[HEADER.correlationId] ?? dl.id;
    // Each redrive attempt is its own operations event; the dead-lettering is one per dead letter.
    const purpose = kind === 'DEAD_LETTERED' ? 'ops:dead-lettered' : `ops:${kind.toLowerCase()}:${Date.now()}`;
    const ctx = eventContext(uow, { id: dl.id, correlationId, tier: this.tier }, sink);
    const value: OperationsEvent = {
      eventId: ctx.deriveEventId(purpose), correlationId, kind, service: this.deps.service, consumerGroup: this.groupId,
      deadLetterId: dl.id, topic: dl.topic, partition: dl.partition, offset: dl.offset, sourceEventId: dl.headers[HEADER.eventId] ?? null,
      errorCode: extra.errorCode ?? null, errorMessage: extra.errorMessage ?? null, actor: extra.actor ?? null, at: Date.now(),
    };
    ctx.emit({ topic: EVENT_TOPICS.operations, key: dl.id, value });
  }
}

function storedMessage(dl: StoredDeadLetter): KafkaMessage {
  const headers = Object.fromEntries(Object.entries(dl.headers).map(([k, v]) => [k, Buffer.from(v)]));
  return { key: dl.key, value: dl.value, headers, offset: String(dl.offset), timestamp: String(Date.now()), attributes: 0, size: 0 } as unknown as KafkaMessage;
}

export function errorCode(error: unknown): string {
  if (error instanceof ClinmeshError) return error.code;
  const e = error as { code?: string; name?: string };
  return String(e?.code ?? e?.name ?? 'UNKNOWN');
}

function splitKey(key: string): [string, number] {
  const i = key.lastIndexOf(':');
  return [key.slice(0, i), Number(key.slice(i + 1))];
}
