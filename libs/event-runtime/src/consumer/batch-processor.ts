import { KafkaMessage } from 'kafkajs';
import { DataSource } from 'typeorm';
import { EVENT_TOPICS, Tier, deadLetterTopic, higherTier } from '@clinmesh/topology';
import type { OperationsEvent } from '@clinmesh/schemas';
import { ClinmeshError, isRetriable } from '@clinmesh/errors';
import { Logger, RuntimeMetrics } from '@clinmesh/observability';
import { AvroSerde } from '../serde/avro-serde';
import { OutboxWriter, OutgoingEvent } from '../outbox/outbox.writer';
import { UnitOfWork, inTransaction, takeDeferredWrites } from '../persistence/unit-of-work';
import { ChunkClose, RuntimeRepository, StoredDeadLetter, isInboxConflict } from '../persistence/runtime.repository';
import { HEADER, headersToRecord, readMetadata } from '../event-headers';
import { deriveEventId } from '../event-id';
import { eventContext, originOf } from '../publish/event-context';
import { ConsumerDefinition } from './consumer-definition';
import { InboundEvent } from './inbound-event';
import { RetryPolicy } from './retry.policy';
import type { TransactionCombiner } from './transaction-combiner';
import type { TierGovernor } from './tier-governor';
import { RECORDS_PER_TURN, TurnTaker } from './event-loop-turns';

/** A definition's records committed in a (possibly shared) transaction. */
export interface ChunkPart {
  processor: BatchProcessor;
  records: DecodedRecord[];
}

export interface BatchProcessorDeps {
  service: string;
  dataSource: DataSource;
  serde: AvroSerde;
  outbox: OutboxWriter;
  metrics: RuntimeMetrics;
  logger: Logger;
  clusterId: () => string;
  /** Says when a higher tier is active here, so this definition's long stretches of work take event-loop turns. */
  governor?: TierGovernor;
}

/** How recently a higher tier must have had work here for a lower one to take event-loop turns. */
const HIGHER_TIER_WINDOW_MS = 1000;

/**
 * How long a definition checks its inbox before handling, after it last met a duplicate. Duplicates come
 * in runs (a retained outbox re-published to a new cluster, a producer's retried batch), and a chunk
 * handled optimistically that holds one is rolled back and handled again.
 */
const INBOX_CHECK_WINDOW_MS = 30_000;

export interface DecodedRecord {
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
 * The batch processor of one consumer definition: decode, then ONE
 * transaction per chunk — inbox dedupe (one query), the handlers, the
 * multi-row inbox insert, the outbox rows (one multi-row insert), and one
 * offsets upsert per partition — with the runtime tables' SQL in
 * RuntimeRepository and retries under the one RetryPolicy. A failing chunk is
 * replayed record by record to isolate the culprit, which is retried if the
 * failure is retriable, or dead-lettered (with an operations event). The
 * consumer loop (EventConsumer: kafkajs lifecycle, seeking, pausing, tier
 * yielding) hands it chunks in partition order.
 */
export class BatchProcessor {
  /** Until when (ms since epoch) chunks are checked against the inbox before they are handled. */
  private inboxCheckUntil = 0;

  constructor(
    private readonly deps: BatchProcessorDeps,
    readonly groupId: string,
    readonly definition: ConsumerDefinition,
    private readonly retry: RetryPolicy,
  ) {}

  get tier(): Tier {
    return this.definition.tier;
  }

  /** For one stretch of this definition's work (event-loop-turns.ts); stat never yields. */
  turnTaker(): TurnTaker {
    const governor = this.deps.governor;
    if (this.tier === 'stat' || !governor) return TurnTaker.never;
    return new TurnTaker(() => governor.activeAbove(this.tier, HIGHER_TIER_WINDOW_MS), RECORDS_PER_TURN, () => this.deps.metrics.tierTurns.inc({ tier: this.tier }));
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
      return { id: deadLetterId, status: 'dead', error: message };
    }
    this.countOutcomes(outcomes, 0);
    return { id: deadLetterId, status: 'redriven' };
  }

  async decode(topic: string, partition: number, message: KafkaMessage, offset = Number(message.offset)): Promise<DecodedRecord> {
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

  /**
   * One chunk of one partition, in order: one transaction — shared with the chunks other
   * definitions of the lane submitted meanwhile, when a combiner is given — or record by record
   * to isolate a failure.
   */
  async processChunk(topic: string, partition: number, messages: KafkaMessage[], combiner?: TransactionCombiner): Promise<void> {
    const records = await this.retry.run(async () => {
      const turns = this.turnTaker();
      const decoded: DecodedRecord[] = [];
      for (const m of messages) {
        decoded.push(await this.decode(topic, partition, m));
        await turns.afterRecord();
      }
      return decoded;
    });
    try {
      if (combiner) await combiner.submit(this, records);
      else await this.commitRecords(records);
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
  commitRecords(records: DecodedRecord[]): Promise<void> {
    return BatchProcessor.commitParts([{ processor: this, records }]);
  }

  /**
   * One transaction for the chunks of one or more definitions (a lane's combined commit): per
   * definition dedupe, handle, inbox and stored offsets; one outbox write for all.
   */
  static async commitParts(parts: ChunkPart[]): Promise<void> {
    const started = process.hrtime.bigint();
    const now = Date.now();
    const optimistic = parts.map((part) => part.processor.inboxCheckUntil <= now);
    let outcomes: Array<Array<{ record: DecodedRecord; outcome: Outcome }>>;
    try {
      outcomes = await BatchProcessor.commitOnce(parts, optimistic);
    } catch (error) {
      if (!optimistic.some(Boolean)) throw error;
      // Handled before the check and failed: a duplicate (the inbox insert met it) or anything else a
      // duplicate may have caused in a handler. Again, checked first, so whatever fails now fails as it
      // would have; the following chunks are checked too, and so is a record-by-record replay.
      parts.forEach((part, i) => {
        if (!optimistic[i]) return;
        part.processor.checkInboxFor(INBOX_CHECK_WINDOW_MS);
        if (isInboxConflict(error)) part.processor.deps.metrics.inboxConflicts.inc({ tier: part.processor.tier });
      });
      outcomes = await BatchProcessor.commitOnce(parts, parts.map(() => false));
    }
    const events = parts.reduce((n, p) => n + p.records.length, 0);
    const secondsPerEvent = Number(process.hrtime.bigint() - started) / 1e9 / Math.max(1, events);
    const tier = parts.reduce((t, p) => higherTier(t, p.processor.tier), parts[0].processor.tier);
    parts[0].processor.deps.metrics.transactionRecords.observe({ tier }, events);
    parts.forEach((part, i) => part.processor.countOutcomes(outcomes[i], secondsPerEvent));
  }

  /** Checks the inbox before handling for the next `ms` (duplicates are arriving). */
  private checkInboxFor(ms: number): void {
    this.inboxCheckUntil = Math.max(this.inboxCheckUntil, Date.now() + ms);
  }

  /**
   * One transaction for `parts`. A part marked `optimistic` is handled without first asking the inbox
   * which of its events were seen — one round trip less per chunk: its inbox insert fails the
   * transaction if one was (RuntimeRepository, `isInboxConflict`), and `commitParts` runs it again, checked.
   */
  private static async commitOnce(parts: ChunkPart[], optimistic: boolean[]): Promise<Array<Array<{ record: DecodedRecord; outcome: Outcome }>>> {
    const deps = parts[0].processor.deps;
    const sink: OutgoingEvent[] = [];
    return inTransaction(deps.dataSource, async (uow) => {
      const { results, inbox } = await BatchProcessor.handleParts(uow, parts, sink, optimistic);
      // Stat rows go to the relay from here (no select back) when its stat loop takes hand-overs now.
      const ticket = deps.outbox.statTicket();
      const outbox = await deps.outbox.encode(uow, sink, BatchProcessor.outboxTurnTaker(parts), ticket);
      // Inbox rows, stored offsets and outbox rows of every part, and the handlers' deferred writes: one statement.
      const written = await new RuntimeRepository(uow).closeChunk({
        inbox, outbox, offsets: parts.map((part) => part.processor.nextOffsets(part.records)), deferred: takeDeferredWrites(uow), returnStat: ticket !== undefined,
      });
      if (ticket !== undefined) deps.outbox.handOverStat(uow, ticket, outbox, written);
      return results;
    });
  }

  /** The outbox write of a combined transaction takes turns only if none of its parts is stat. */
  private static outboxTurnTaker(parts: ChunkPart[]): TurnTaker {
    return parts.some((p) => p.processor.tier === 'stat') ? TurnTaker.never : parts[0].processor.turnTaker();
  }

  /** Inside the caller's transaction: one record set of this definition (redrive). */
  private async handleInTransaction(uow: UnitOfWork, records: DecodedRecord[], sink: OutgoingEvent[]): Promise<Array<{ record: DecodedRecord; outcome: Outcome }>> {
    const { results, inbox } = await BatchProcessor.handleParts(uow, [{ processor: this, records }], sink);
    for (const i of inbox) await new RuntimeRepository(uow).insertInbox(i.group, i.rows);
    return results[0];
  }

  /**
   * Inside the caller's transaction, for each part: dead-letter undecodable records, skip seen
   * ones (not asked for a part marked `optimistic`: its inbox insert finds them), handle the rest;
   * returns the inbox rows of what was handled, for the caller to write. A `prepare` or `complete` hook
   * shared by several definitions (the tiers of one stage) runs once, with all their events —
   * so locks a `prepare` takes are still taken in one global order per transaction.
   */
  private static async handleParts(
    uow: UnitOfWork, parts: ChunkPart[], sink: OutgoingEvent[], optimistic: boolean[] = [],
  ): Promise<{ results: Array<Array<{ record: DecodedRecord; outcome: Outcome }>>; inbox: ChunkClose['inbox'] }> {
    const tables = new RuntimeRepository(uow);
    const results: Array<Array<{ record: DecodedRecord; outcome: Outcome }>> = [];
    const handling: Array<{ processor: BatchProcessor; toHandle: DecodedRecord[] }> = [];
    for (const [i, { processor, records }] of parts.entries()) {
      const seen = optimistic[i] ? new Set<string>() : await tables.seenEventIds(processor.groupId, records.filter((r) => r.event).map((r) => r.event!.eventId));
      // Still meeting duplicates: keep checking first.
      if (seen.size) processor.checkInboxFor(INBOX_CHECK_WINDOW_MS);
      const outcomes: Array<{ record: DecodedRecord; outcome: Outcome }> = [];
      const toHandle: DecodedRecord[] = [];
      for (const record of records) {
        if (record.decodeError) {
          await processor.writeDeadLetter(uow, sink, record, record.decodeError, 1);
          outcomes.push({ record, outcome: 'dead_lettered' });
        } else if (seen.has(record.event!.eventId)) {
          outcomes.push({ record, outcome: 'duplicate' });
        } else {
          seen.add(record.event!.eventId);
          toHandle.push(record);
          outcomes.push({ record, outcome: 'processed' });
        }
      }
      results.push(outcomes);
      if (toHandle.length) handling.push({ processor, toHandle });
    }
    const prepares = new Map<NonNullable<ConsumerDefinition['prepare']>, Array<InboundEvent<unknown>>>();
    for (const { processor, toHandle } of handling) {
      const prepare = processor.definition.prepare;
      if (!prepare) continue;
      const events = prepares.get(prepare) ?? [];
      for (const r of toHandle) events.push(r.event!);
      prepares.set(prepare, events);
    }
    for (const [prepare, events] of prepares) await prepare(events, uow);
    for (const { processor, toHandle } of handling) {
      const turns = processor.turnTaker();
      for (const record of toHandle) {
        const event = record.event!;
        await processor.definition.handle(event, eventContext(uow, originOf(event), sink, processor.deps.logger));
        await turns.afterRecord();
      }
    }
    const completes = new Set(handling.map((h) => h.processor.definition.complete).filter((c): c is NonNullable<typeof c> => !!c));
    for (const complete of completes) await complete(uow);
    const inbox = handling.map(({ processor, toHandle }) => ({
      group: processor.groupId, rows: toHandle.map((r) => ({ eventId: r.event!.eventId, topic: r.topic, partition: r.partition, offset: r.offset })),
    }));
    return { results, inbox };
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
  /** The next offset of each partition in `records` (the last record's + 1), as this definition stores it. */
  private nextOffsets(records: DecodedRecord[]): ChunkClose['offsets'][number] {
    const last = new Map<string, { topic: string; partition: number; next: number }>();
    for (const r of records) last.set(`${r.topic}:${r.partition}`, { topic: r.topic, partition: r.partition, next: r.offset + 1 });
    return { group: this.groupId, clusterId: this.deps.clusterId(), offsets: [...last.values()] };
  }

  private async deadLetter(record: DecodedRecord, error: unknown, attempts: number): Promise<void> {
    const code = errorCode(error);
    const sink: OutgoingEvent[] = [];
    await inTransaction(this.deps.dataSource, async (uow) => {
      await this.writeDeadLetter(uow, sink, record, error, attempts);
      const inbox = [{ eventId: record.event?.eventId ?? `${record.topic}/${record.partition}/${record.offset}`, topic: record.topic, partition: record.partition, offset: record.offset }];
      await new RuntimeRepository(uow).closeChunk({ inbox: [{ group: this.groupId, rows: inbox }], outbox: await this.deps.outbox.encode(uow, sink), offsets: [this.nextOffsets([record])] });
    });
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
    const ctx = eventContext(uow, { id, correlationId, tier: this.tier, source: headers[HEADER.source] }, sink, this.deps.logger);
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
    const ctx = eventContext(uow, { id: dl.id, correlationId, tier: this.tier }, sink, this.deps.logger);
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
