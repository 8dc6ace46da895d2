import { DataSource } from 'typeorm';
import { HEADER } from '../event-headers';
import { RuntimeRepository, poolQueries } from '../persistence/runtime.repository';

/** Events listed per correlation id: a message fans out to a handful; the bound keeps a runaway correlation cheap. */
const EMITTED_LIMIT = 500;

/** An event this service emitted for a message, with its timing (ISO-8601) and its stored Avro value. */
export interface EmittedEventRecord {
  eventId: string;
  topic: string;
  eventType: string | null;
  tier: string | null;
  causationId: string | null;
  createdAt: string;
  publishedAt: string | null;
  /** When this service's inbox recorded the event that caused it (the stage's start). */
  consumedAt: string | null;
  status: 'pending' | 'published';
  value: Buffer;
}

/** An event this service consumed, by consumer group (ISO-8601 time). */
export interface ConsumedEvent {
  eventId: string;
  consumerGroup: string;
  topic: string;
  processedAt: string;
}

/**
 * The runtime's part of `GET /v1/lineage/{correlationId}`, common to every service: what the runtime's
 * own tables recorded for one message — the events this service emitted (waiting, or published and still
 * retained), when it consumed their causes, and which events it consumed. Dead letters of a correlation
 * come from `DeadLetterOperations.ofCorrelation`. Reads only this service's tables.
 */
export class RuntimeLineage {
  private readonly tables: RuntimeRepository;

  constructor(dataSource: DataSource) {
    this.tables = new RuntimeRepository(poolQueries(dataSource));
  }

  async emitted(correlationId: string): Promise<EmittedEventRecord[]> {
    const rows = await this.tables.emittedOfCorrelation(correlationId, EMITTED_LIMIT);
    return rows.map((r) => ({
      eventId: r.eventId, topic: r.topic, eventType: r.headers[HEADER.eventType] ?? null, tier: r.headers[HEADER.tier] ?? null,
      causationId: r.headers[HEADER.causationId] ?? null, createdAt: r.createdAt.toISOString(), publishedAt: r.publishedAt?.toISOString() ?? null,
      consumedAt: r.causeConsumedAt?.toISOString() ?? null, status: r.publishedAt ? 'published' : 'pending', value: r.value,
    }));
  }

  /** The correlation id of an event this service emitted or dead-lettered, or null. */
  correlationOfEvent(eventId: string): Promise<string | null> {
    return this.tables.correlationOfEvent(eventId);
  }

  /** Which of these events this service consumed (e.g. the last stage, which emits nothing for them). */
  async consumed(eventIds: string[]): Promise<ConsumedEvent[]> {
    const rows = await this.tables.inboxEntries(eventIds);
    return rows.map((r) => ({ ...r, processedAt: r.processedAt.toISOString() }));
  }
}
