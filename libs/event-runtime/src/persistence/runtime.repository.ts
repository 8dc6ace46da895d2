import { DataSource } from 'typeorm';
import type { UnitOfWork } from './unit-of-work';

/** The queries a repository needs: a transaction's UnitOfWork, or the pool for a single statement. */
export type Queries = Pick<UnitOfWork, 'query' | 'execute'>;

/** A DataSource as `Queries`: each statement on its own pooled connection (autocommit). */
export function poolQueries(dataSource: DataSource): Queries {
  return {
    query: async <T>(sql: string, params?: unknown[]) => (await dataSource.query(sql, params)) as T[],
    execute: async (sql: string, params?: unknown[]) => {
      const result = await dataSource.query(sql, params);
      return Array.isArray(result) && typeof result[1] === 'number' ? result[1] : 0;
    },
  };
}

export interface StoredOffset {
  next: number;
  clusterId: string;
}

export interface PartitionOffset {
  topic: string;
  partition: number;
  next: number;
}

export interface InboxRow {
  eventId: string;
  topic: string;
  partition: number;
  offset: number;
}

export interface DeadLetterRow {
  id: string;
  consumerGroup: string;
  tier: string;
  topic: string;
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
  errorCode: string;
  errorMessage: string;
  attempts: number;
}

export interface StoredDeadLetter extends DeadLetterRow {
  status: 'dead' | 'redriven';
  failedAt: Date;
  redrivenAt: Date | null;
  lastRedriveError: string | null;
}

/**
 * All SQL on the runtime's own tables (cm_inbox, cm_consumer_offsets,
 * cm_dead_letters): the consumer, replay and redrive share these statements,
 * inside the caller's transaction when given a UnitOfWork.
 */
export class RuntimeRepository {
  constructor(private readonly db: Queries) {}

  async storedOffset(group: string, topic: string, partition: number): Promise<StoredOffset | undefined> {
    const rows = await this.db.query<{ next_offset: string; cluster_id: string }>(
      'SELECT next_offset, cluster_id FROM cm_consumer_offsets WHERE consumer_group = $1 AND topic = $2 AND partition = $3',
      [group, topic, partition],
    );
    return rows[0] ? { next: Number(rows[0].next_offset), clusterId: rows[0].cluster_id } : undefined;
  }

  /** One multi-row upsert for every partition given. */
  async storeOffsets(group: string, clusterId: string, offsets: PartitionOffset[]): Promise<void> {
    if (!offsets.length) return;
    const params: unknown[] = [group, clusterId];
    const rows = offsets.map((o, i) => {
      params.push(o.topic, o.partition, o.next);
      const b = 3 + i * 3;
      return `($1, $${b}, $${b + 1}, $${b + 2}, $2, now())`;
    });
    await this.db.execute(
      `INSERT INTO cm_consumer_offsets (consumer_group, topic, partition, next_offset, cluster_id, updated_at)
       VALUES ${rows.join(', ')}
       ON CONFLICT (consumer_group, topic, partition) DO UPDATE
       SET next_offset = EXCLUDED.next_offset, cluster_id = EXCLUDED.cluster_id, updated_at = now()`,
      params,
    );
  }

  async seenEventIds(group: string, eventIds: string[]): Promise<Set<string>> {
    if (!eventIds.length) return new Set();
    const rows = await this.db.query<{ event_id: string }>('SELECT event_id FROM cm_inbox WHERE consumer_group = $1 AND event_id = ANY($2)', [group, eventIds]);
    return new Set(rows.map((r) => r.event_id));
  }

  /** One multi-row insert; an id already there is left as it is. */
  async insertInbox(group: string, rows: InboxRow[]): Promise<void> {
    if (!rows.length) return;
    const params: unknown[] = [group];
    const values = rows.map((r, i) => {
      params.push(r.eventId, r.topic, r.partition, r.offset);
      const b = 2 + i * 4;
      return `($1, $${b}, $${b + 1}, $${b + 2}, $${b + 3})`;
    });
    await this.db.execute(`INSERT INTO cm_inbox (consumer_group, event_id, topic, partition, "offset") VALUES ${values.join(', ')} ON CONFLICT DO NOTHING`, params);
  }

  /** Forget processed events at or after `offset` (replay), or exactly at it (`only`: redrive). */
  async forgetInbox(group: string, topic: string, partition: number, offset: number, only = false): Promise<void> {
    await this.db.execute(
      `DELETE FROM cm_inbox WHERE consumer_group = $1 AND topic = $2 AND partition = $3 AND "offset" ${only ? '=' : '>='} $4`,
      [group, topic, partition, offset],
    );
  }

  async writeDeadLetter(row: DeadLetterRow): Promise<void> {
    await this.db.execute(
      `INSERT INTO cm_dead_letters (id, consumer_group, tier, topic, partition, "offset", message_key, value, headers, error_code, error_message, attempts)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12)
       ON CONFLICT (id) DO UPDATE SET error_code = EXCLUDED.error_code, error_message = EXCLUDED.error_message, attempts = EXCLUDED.attempts, status = 'dead', failed_at = now()`,
      [row.id, row.consumerGroup, row.tier, row.topic, row.partition, row.offset, row.key, row.value, JSON.stringify(row.headers), row.errorCode, row.errorMessage, row.attempts],
    );
  }

  async deadLetter(id: string, forUpdate = false): Promise<StoredDeadLetter | undefined> {
    const rows = await this.db.query<Record<string, unknown>>(`SELECT * FROM cm_dead_letters WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [id]);
    return rows[0] ? toDeadLetter(rows[0]) : undefined;
  }

  async listDeadLetters(filter: { status?: string; errorCode?: string; consumerGroup?: string; since?: Date; limit: number }): Promise<StoredDeadLetter[]> {
    const rows = await this.db.query<Record<string, unknown>>(
      `SELECT * FROM cm_dead_letters
       WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR error_code = $2) AND ($3::text IS NULL OR consumer_group = $3)
         AND ($4::timestamptz IS NULL OR failed_at >= $4)
       ORDER BY failed_at DESC LIMIT $5`,
      [filter.status ?? null, filter.errorCode ?? null, filter.consumerGroup ?? null, filter.since ?? null, filter.limit],
    );
    return rows.map(toDeadLetter);
  }

  async markRedriven(id: string): Promise<void> {
    await this.db.execute(`UPDATE cm_dead_letters SET status = 'redriven', redriven_at = now(), last_redrive_error = NULL WHERE id = $1`, [id]);
  }

  async recordRedriveError(id: string, message: string): Promise<void> {
    await this.db.execute('UPDATE cm_dead_letters SET last_redrive_error = $2 WHERE id = $1', [id, message]);
  }
}

function toDeadLetter(r: Record<string, unknown>): StoredDeadLetter {
  return {
    id: r.id as string,
    consumerGroup: r.consumer_group as string,
    tier: r.tier as string,
    topic: r.topic as string,
    partition: Number(r.partition),
    offset: Number(r.offset),
    key: (r.message_key as Buffer | null) ?? null,
    value: (r.value as Buffer | null) ?? null,
    headers: r.headers as Record<string, string>,
    errorCode: r.error_code as string,
    errorMessage: r.error_message as string,
    attempts: Number(r.attempts),
    status: r.status as 'dead' | 'redriven',
    failedAt: new Date(r.failed_at as string),
    redrivenAt: r.redriven_at ? new Date(r.redriven_at as string) : null,
    lastRedriveError: (r.last_redrive_error as string | null) ?? null,
  };
}
