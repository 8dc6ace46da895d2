import { DataSource } from 'typeorm';
import { HEADER } from '@clinmesh/topology';
import { iso } from './lineage.port';

export interface EmittedEvent {
  eventId: string;
  topic: string;
  eventType: string | null;
  tier: string | null;
  causationId: string | null;
  createdAt: string | null;
  publishedAt: string | null;
  /** When this service's inbox recorded the event that caused it (the stage's start). */
  consumedAt: string | null;
  status: 'pending' | 'published';
  value: Buffer;
}

export interface DeadLetterRow {
  id: string;
  consumerGroup: string;
  tier: string;
  topic: string;
  partition: number;
  offset: number;
  errorCode: string;
  errorMessage: string;
  attempts: number;
  status: string;
  failedAt: string | null;
  redrivenAt: string | null;
  correlationId: string | null;
  eventId: string | null;
  value: Buffer | null;
}

/**
 * The runtime part of lineage, common to every service: the events this
 * service emitted for a correlation id (outbox, pending and published/
 * retained), when it consumed their causes (inbox), and its dead letters.
 * Reads only this service's own runtime tables.
 */
export class RuntimeLineageRepository {
  constructor(private readonly dataSource: DataSource) {}

  async emitted(correlationId: string): Promise<EmittedEvent[]> {
    const rows: Array<Record<string, unknown>> = await this.dataSource.query(
      `WITH out AS (
         SELECT event_id, topic, headers, created_at, NULL::timestamptz AS published_at, 'pending' AS status, value FROM cm_outbox WHERE headers->>$2 = $1
         UNION ALL
         SELECT event_id, topic, headers, created_at, published_at, 'published' AS status, value FROM cm_outbox_published WHERE headers->>$2 = $1)
       SELECT o.*, (SELECT min(i.processed_at) FROM cm_inbox i WHERE i.event_id = o.headers->>$3) AS consumed_at
         FROM out o ORDER BY o.created_at, o.event_id LIMIT 500`,
      [correlationId, HEADER.correlationId, HEADER.causationId],
    );
    return rows.map((r) => {
      const h = r.headers as Record<string, string>;
      return {
        eventId: String(r.event_id), topic: String(r.topic), eventType: h[HEADER.eventType] ?? null, tier: h[HEADER.tier] ?? null,
        causationId: h[HEADER.causationId] ?? null, createdAt: iso(r.created_at), publishedAt: iso(r.published_at), consumedAt: iso(r.consumed_at),
        status: r.status as 'pending' | 'published', value: r.value as Buffer,
      };
    });
  }

  async deadLetters(where: { correlationId?: string; id?: string }): Promise<DeadLetterRow[]> {
    const rows: Array<Record<string, unknown>> = where.id
      ? await this.dataSource.query('SELECT * FROM cm_dead_letters WHERE id = $1', [where.id])
      : await this.dataSource.query('SELECT * FROM cm_dead_letters WHERE headers->>$2 = $1 ORDER BY failed_at LIMIT 200', [where.correlationId, HEADER.correlationId]);
    return rows.map((r) => {
      const h = r.headers as Record<string, string>;
      return {
        id: String(r.id), consumerGroup: String(r.consumer_group), tier: String(r.tier), topic: String(r.topic), partition: Number(r.partition), offset: Number(r.offset),
        errorCode: String(r.error_code), errorMessage: String(r.error_message), attempts: Number(r.attempts), status: String(r.status),
        failedAt: iso(r.failed_at), redrivenAt: iso(r.redriven_at), correlationId: h[HEADER.correlationId] ?? null, eventId: h[HEADER.eventId] ?? null,
        value: (r.value as Buffer | null) ?? null,
      };
    });
  }

  /** The correlation id of an event this service emitted or dead-lettered. */
  async correlationOfEvent(eventId: string): Promise<string | null> {
    const rows: Array<{ c: string | null }> = await this.dataSource.query(
      `SELECT headers->>$2 AS c FROM cm_outbox WHERE event_id = $1
       UNION ALL SELECT headers->>$2 FROM cm_outbox_published WHERE event_id = $1
       UNION ALL SELECT headers->>$2 FROM cm_dead_letters WHERE headers->>$3 = $1 LIMIT 1`,
      [eventId, HEADER.correlationId, HEADER.eventId],
    );
    return rows[0]?.c ?? null;
  }

  /** Event ids of a correlation this service consumed but did not emit from (e.g. the last stage). */
  async consumedWithoutOutput(eventIds: string[]): Promise<Array<{ eventId: string; consumerGroup: string; topic: string; processedAt: string | null }>> {
    if (!eventIds.length) return [];
    const rows: Array<Record<string, unknown>> = await this.dataSource.query('SELECT consumer_group, event_id, topic, processed_at FROM cm_inbox WHERE event_id = ANY($1) ORDER BY processed_at', [eventIds]);
    return rows.map((r) => ({ eventId: String(r.event_id), consumerGroup: String(r.consumer_group), topic: String(r.topic), processedAt: iso(r.processed_at) }));
  }
}
