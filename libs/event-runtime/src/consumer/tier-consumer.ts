import { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { DataSource } from 'typeorm';
import { Tier, deadLetterTopic } from '@clinmesh/topology';
import { EventSchemaName } from '@clinmesh/schemas';
import { ClinmeshError, isRetriable } from '@clinmesh/errors';
import { Logger, RuntimeMetrics, withLogContext } from '@clinmesh/observability';
import { AvroSerde } from '../serde/avro-serde';
import { OutboxWriter } from '../outbox/outbox.writer';
import { UnitOfWork, inTransaction } from '../persistence/unit-of-work';
import { HEADER, headersToRecord, readMetadata } from '../event-headers';
import { childTraceparent, deriveEventId } from '../event-id';
import { EventContext, EventHandler, InboundEvent, OutgoingWithMeta } from './inbound-event';
import { TierGovernor } from './tier-governor';
import { errorSummary } from '../outbox/outbox.relay';

export interface ConsumerBinding {
  tier: Tier;
  topics: string[];
  readerSchema: EventSchemaName;
  handler: EventHandler<any>;
  /** Records per transaction for this binding (default: the runtime's chunk size). */
  chunkSize?: number;
  /**
   * Runs once per transaction before the handlers, with every event about to be handled in it
   * (e.g. to take all the chunk's locks in one global order, so chunks cannot deadlock).
   */
  prepare?: (events: InboundEvent[], uow: UnitOfWork) => Promise<void>;
}

export interface TierConsumerOptions {
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  maxWaitTimeMs: number;
  partitionsConsumedConcurrently: number;
  chunkSize: number;
  maxInProcessAttempts: number;
  kafkaCommitIntervalMs: number;
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
  event?: InboundEvent;
  decodeError?: ClinmeshError;
}

/** Outcome of one record, counted after its transaction committed. */
type Outcome = 'processed' | 'duplicate' | 'dead_lettered';

/**
 * One Kafka consumer (own group, own lag) for one tier of one service.
 * Stored offsets in the service database are the source of truth: on the
 * first batch of each newly assigned partition the consumer seeks to them,
 * and a stored offset that retention has passed stops that partition with a
 * metric and an error naming the lost range instead of skipping. Each chunk
 * of messages commits effects, outbox rows, inbox rows and the new stored
 * offset in one transaction; Kafka-committed offsets trail for lag tooling.
 */
export class TierConsumer {
  readonly groupId: string;
  private consumer: Consumer | null = null;
  private readonly positions = new Map<string, PartitionPosition>();
  private readonly yielded = new Map<string, { topic: string; partition: number }>();
  private lastKafkaCommit = 0;
  private readonly pendingKafkaCommits = new Map<string, { topic: string; partition: number; offset: string }>();
  private unsubscribeClear: (() => void) | null = null;
  private assignmentReady: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: {
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
    },
    readonly binding: ConsumerBinding,
    private readonly options: TierConsumerOptions,
  ) {
    this.groupId = `${deps.service}.${binding.tier}`;
  }

  get tier(): Tier {
    return this.binding.tier;
  }

  async start(): Promise<void> {
    const consumer = this.deps.kafka.consumer({
      groupId: this.groupId,
      sessionTimeout: this.options.sessionTimeoutMs,
      rebalanceTimeout: Math.max(this.options.sessionTimeoutMs, 10000),
      heartbeatInterval: this.options.heartbeatIntervalMs,
      maxWaitTimeInMs: this.options.maxWaitTimeMs,
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
    for (const topic of this.binding.topics) await consumer.subscribe({ topic, fromBeginning: true });
    this.unsubscribeClear = this.deps.governor.onClear(() => this.resumeYielded());
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.onBatch(payload),
    });
  }

  async stop(): Promise<void> {
    this.unsubscribeClear?.();
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

  /** Process one record outside the consumer loop (dead-letter redrive). */
  async reprocess(topic: string, partition: number, offset: number, message: KafkaMessage): Promise<void> {
    const record = await this.decode(topic, partition, message, offset);
    if (record.decodeError) throw record.decodeError;
    await this.commitRecords([record], { storeOffset: false, deadLetterOnDecodeError: false });
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
    for (let i = 0; i < messages.length; i += this.options.chunkSize) {
      if (!isRunning() || isStale()) return;
      if (this.deps.governor.mustYield(this.tier)) {
        // Unresolved messages are fetched again after resume (kafkajs fetches from the resolved offset).
        this.deps.metrics.tierYields.inc({ tier: this.tier });
        this.yielded.set(key, { topic, partition });
        pause();
        if (!this.deps.governor.mustYield(this.tier)) this.resumeYielded();
        return;
      }
      const chunk = messages.slice(i, i + this.options.chunkSize);
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
    const rows = await this.deps.dataSource.query(
      'SELECT next_offset, cluster_id FROM cm_consumer_offsets WHERE consumer_group = $1 AND topic = $2 AND partition = $3',
      [this.groupId, topic, partition],
    );
    const low = await this.logStart(topic, partition);
    const stored = rows[0] as { next_offset: string; cluster_id: string } | undefined;
    if (!stored || stored.cluster_id !== this.deps.clusterId()) {
      // New service, or a new (embedded, in-memory) cluster: start that cluster's log from its beginning.
      if (stored) this.deps.logger.warn({ group: this.groupId, topic, partition, storedCluster: stored.cluster_id, cluster: this.deps.clusterId() }, 'stored offset belongs to another cluster; starting this cluster from its beginning');
      return { next: low };
    }
    const next = Number(stored.next_offset);
    if (next < low) {
      const pos: PartitionPosition = { next };
      this.reportLoss(topic, partition, pos, next, low);
      return pos;
    }
    return { next };
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
      const { value, schemaId } = await this.deps.serde.decode(message.value, this.binding.readerSchema);
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
    const records = await this.withRetry(() => Promise.all(messages.map((m) => this.decode(topic, partition, m))), 'decode');
    try {
      await this.commitRecords(records, { storeOffset: true, deadLetterOnDecodeError: true });
    } catch (error) {
      if (records.length === 1) return this.processSingle(records[0], error);
      // Isolate the failing record: replay the chunk one record per transaction.
      for (const record of records) {
        try {
          await this.commitRecords([record], { storeOffset: true, deadLetterOnDecodeError: true });
        } catch (singleError) {
          await this.processSingle(record, singleError);
        }
      }
    }
  }

  /** A record whose transaction failed: retry if retriable, else dead-letter it and move on. */
  private async processSingle(record: DecodedRecord, firstError: unknown): Promise<void> {
    let error = firstError;
    let attempts = 1;
    while (isRetriable(error) && attempts < this.options.maxInProcessAttempts) {
      this.deps.metrics.retries.inc({ tier: this.tier, code: errorCode(error) });
      await sleep(Math.min(5000, 100 * 2 ** attempts));
      attempts += 1;
      try {
        await this.commitRecords([record], { storeOffset: true, deadLetterOnDecodeError: true });
        return;
      } catch (e) {
        error = e;
      }
    }
    if (isRetriable(error)) {
      // Still failing on an infrastructure error: never dead-letter for that. Throwing makes
      // kafkajs restart the consumer and refetch from the last resolved offset.
      throw error;
    }
    await this.deadLetter(record, error, attempts);
  }

  private async commitRecords(records: DecodedRecord[], opts: { storeOffset: boolean; deadLetterOnDecodeError: boolean }): Promise<void> {
    const started = process.hrtime.bigint();
    const outcomes: Array<{ record: DecodedRecord; outcome: Outcome }> = [];
    const deadLetterCodes: string[] = [];
    await inTransaction(this.deps.dataSource, async (uow) => {
      const ids = records.filter((r) => r.event).map((r) => r.event!.eventId);
      const seenRows = ids.length
        ? await uow.query<{ event_id: string }>('SELECT event_id FROM cm_inbox WHERE consumer_group = $1 AND event_id = ANY($2)', [this.groupId, ids])
        : [];
      const seen = new Set(seenRows.map((r) => r.event_id));
      const outgoing: OutgoingWithMeta[] = [];
      const toHandle: DecodedRecord[] = [];
      for (const record of records) {
        if (record.decodeError) {
          if (!opts.deadLetterOnDecodeError) throw record.decodeError;
          await this.writeDeadLetter(uow, record, record.decodeError, 1);
          deadLetterCodes.push(record.decodeError.code);
          outcomes.push({ record, outcome: 'dead_lettered' });
        } else if (seen.has(record.event!.eventId)) {
          outcomes.push({ record, outcome: 'duplicate' });
        } else {
          seen.add(record.event!.eventId);
          toHandle.push(record);
          outcomes.push({ record, outcome: 'processed' });
        }
      }
      if (toHandle.length && this.binding.prepare) await this.binding.prepare(toHandle.map((r) => r.event!), uow);
      for (const record of toHandle) {
        const event = record.event!;
        await withLogContext({ correlationId: event.correlationId, eventId: event.eventId, tier: event.tier }, () =>
          this.binding.handler(event, this.contextFor(uow, event, outgoing)));
      }
      const inbox = toHandle;
      await this.insertInbox(uow, inbox);
      await this.deps.outbox.write(uow, outgoing);
      if (opts.storeOffset) await this.storeOffset(uow, records);
    });
    this.deps.outbox.committed();
    const perEvent = Number(process.hrtime.bigint() - started) / 1e9 / Math.max(1, records.length);
    const now = Date.now();
    for (const { record, outcome } of outcomes) {
      const tier = record.event?.tier ?? this.tier;
      this.deps.metrics.consumed.inc({ tier, topic: record.topic, outcome });
      if (outcome === 'processed') {
        this.deps.metrics.processingSeconds.observe({ tier }, perEvent);
        if (record.event?.receivedAt) this.deps.metrics.endToEndSeconds.observe({ tier, stage: this.deps.service }, (now - record.event.receivedAt) / 1000);
      }
    }
    for (const code of deadLetterCodes) this.deps.metrics.deadLetters.inc({ tier: this.tier, code });
  }

  private contextFor(uow: UnitOfWork, event: InboundEvent, outgoing: OutgoingWithMeta[]): EventContext {
    return {
      uow,
      deriveEventId: (purpose) => deriveEventId(event.eventId, purpose),
      emit: (out) => {
        outgoing.push({
          topic: out.topic,
          key: out.key,
          value: out.value,
          meta: {
            eventId: out.eventId,
            correlationId: event.correlationId,
            causationId: event.eventId,
            traceparent: childTraceparent(event.traceparent, out.eventId),
            tier: out.tier ?? event.tier,
            source: event.source,
            receivedAt: event.receivedAt,
            eventType: out.eventType,
          },
        });
      },
    };
  }

  private async insertInbox(uow: UnitOfWork, records: DecodedRecord[]): Promise<void> {
    if (!records.length) return;
    const params: unknown[] = [this.groupId];
    const rows = records.map((r, i) => {
      params.push(r.event?.eventId ?? `${r.topic}/${r.partition}/${r.offset}`, r.topic, r.partition, r.offset);
      const b = 2 + i * 4;
      return `($1, $${b}, $${b + 1}, $${b + 2}, $${b + 3})`;
    });
    await uow.execute(`INSERT INTO cm_inbox (consumer_group, event_id, topic, partition, "offset") VALUES ${rows.join(', ')} ON CONFLICT DO NOTHING`, params);
  }

  private async storeOffset(uow: UnitOfWork, records: DecodedRecord[]): Promise<void> {
    const last = records[records.length - 1];
    await uow.execute(
      `INSERT INTO cm_consumer_offsets (consumer_group, topic, partition, next_offset, cluster_id, updated_at)
       VALUES ($1, $2, $3, $4, $5, now())
       ON CONFLICT (consumer_group, topic, partition) DO UPDATE
       SET next_offset = EXCLUDED.next_offset, cluster_id = EXCLUDED.cluster_id, updated_at = now()`,
      [this.groupId, last.topic, last.partition, last.offset + 1, this.deps.clusterId()],
    );
  }

  private async deadLetter(record: DecodedRecord, error: unknown, attempts: number): Promise<void> {
    const code = errorCode(error);
    await inTransaction(this.deps.dataSource, async (uow) => {
      await this.writeDeadLetter(uow, record, error, attempts);
      await this.insertInbox(uow, [record]);
      await this.storeOffset(uow, [record]);
    });
    this.deps.outbox.committed();
    this.deps.metrics.deadLetters.inc({ tier: this.tier, code });
    this.deps.metrics.consumed.inc({ tier: this.tier, topic: record.topic, outcome: 'dead_lettered' });
  }

  private async writeDeadLetter(uow: UnitOfWork, record: DecodedRecord, error: unknown, attempts: number): Promise<void> {
    const id = deriveEventId(`${this.groupId}/${record.topic}/${record.partition}/${record.offset}`, 'dead-letter');
    const headers = headersToRecord(record.message.headers);
    const code = errorCode(error);
    const message = String((error as Error)?.message ?? error).slice(0, 1000);
    this.deps.logger.error({ group: this.groupId, topic: record.topic, partition: record.partition, offset: record.offset, code, deadLetterId: id, correlationId: headers[HEADER.correlationId] }, 'event dead-lettered');
    await uow.execute(
      `INSERT INTO cm_dead_letters (id, consumer_group, tier, topic, partition, "offset", message_key, value, headers, error_code, error_message, attempts)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12)
       ON CONFLICT (id) DO UPDATE SET error_code = EXCLUDED.error_code, error_message = EXCLUDED.error_message, attempts = EXCLUDED.attempts, status = 'dead', failed_at = now()`,
      [id, this.groupId, this.tier, record.topic, record.partition, record.offset, record.message.key, record.message.value, JSON.stringify(headers), code, message, attempts],
    );
    await this.deps.outbox.write(uow, [{
      topic: deadLetterTopic(this.deps.service),
      key: record.message.key ? record.message.key.toString('utf8') : null,
      value: {
        eventId: id, service: this.deps.service, consumerGroup: this.groupId, topic: record.topic, partition: record.partition,
        offset: record.offset, key: record.message.key ?? null, value: record.message.value ?? null, headers, errorCode: code,
        errorMessage: message, failedAt: Date.now(), attempts,
      },
      meta: { eventId: id, correlationId: headers[HEADER.correlationId] ?? id, tier: this.tier, eventType: 'DeadLetter' },
    }]);
  }

  private async withRetry<T>(work: () => Promise<T>, what: string): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await work();
      } catch (error) {
        if (!isRetriable(error) || attempt >= this.options.maxInProcessAttempts) throw error;
        this.deps.metrics.retries.inc({ tier: this.tier, code: errorCode(error) });
        this.deps.logger.warn({ group: this.groupId, what, attempt, err: errorSummary(error) }, 'retriable failure; backing off');
        await sleep(Math.min(5000, 100 * 2 ** attempt));
      }
    }
  }
}

function errorCode(error: unknown): string {
  if (error instanceof ClinmeshError) return error.code;
  const e = error as { code?: string; name?: string };
  return String(e?.code ?? e?.name ?? 'UNKNOWN');
}

function splitKey(key: string): [string, number] {
  const i = key.lastIndexOf(':');
  return [key.slice(0, i), Number(key.slice(i + 1))];
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
