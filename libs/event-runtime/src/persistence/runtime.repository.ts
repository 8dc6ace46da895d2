import { DataSource } from 'typeorm';
import { HEADER } from '../event-headers';
import { bindDeferred, combinedStatement, type DeferredWrite, type UnitOfWork } from './unit-of-work';
import { PREPARED, queryPrepared, type StatementOptions } from './prepared-statement';

/** The queries a repository needs: a transaction's UnitOfWork, or the pool for a single statement. */
export type Queries = Pick<UnitOfWork, 'query' | 'execute'>;

/** A DataSource as `Queries`: each statement on its own pooled connection (autocommit). */
export function poolQueries(dataSource: DataSource): Queries {
  return {
    query: async <T>(sql: string, params?: unknown[], options?: StatementOptions) =>
      (options?.prepared ? (await queryPrepared<T>(dataSource, sql, params)).rows : ((await dataSource.query(sql, params)) as T[])),
    execute: async (sql: string, params?: unknown[], options?: StatementOptions) => {
      if (options?.prepared) return (await queryPrepared(dataSource, sql, params)).rowCount;
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

/** An encoded event for cm_outbox (OutboxWriter.encode). */
export interface OutboxRow {
  eventId: string;
  topic: string;
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
  tierRank: number;
}

/** What a consumer transaction records at its end: each definition's inbox rows and next offsets, and the outbox rows of all. */
export interface ChunkClose {
  inbox: Array<{ group: string; rows: InboxRow[] }>;
  offsets: Array<{ group: string; clusterId: string; offsets: PartitionOffset[] }>;
  outbox: OutboxRow[];
  /** The handlers' deferred writes (`uow.deferWrite`), carried by the same statement. */
  deferred?: DeferredWrite[];
  /** Return the ids of the stat rows written, for the relay (see StatRowsWritten). */
  returnStat?: boolean;
}

/**
 * The stat outbox rows a closing statement wrote, by id (the relay's stat loop publishes them without
 * selecting them back: outbox/stat-handoff.ts), and whether other stat rows were waiting in the
 * outbox when it ran — its snapshot, which never shows its own rows.
 */
export interface StatRowsWritten {
  rows: Array<{ id: string; row: OutboxRow }>;
  othersWaiting: boolean;
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

/** An event this service emitted, as its outbox (waiting) or the outbox's retained copy (published) holds it. */
export interface EmittedRow {
  eventId: string;
  topic: string;
  headers: Record<string, string>;
  createdAt: Date;
  publishedAt: Date | null;
  /** When this service's inbox recorded the event that caused it (the stage's start), if it consumed one. */
  causeConsumedAt: Date | null;
  value: Buffer;
}

/** One inbox entry: a consumer group of this service processed the event. */
export interface InboxEntry {
  eventId: string;
  consumerGroup: string;
  topic: string;
  processedAt: Date;
}

/**
 * All SQL on the runtime's own tables (cm_inbox, cm_consumer_offsets, cm_outbox and its retained copy,
 * cm_dead_letters): the consumer, replay, redrive and the lineage reads share these statements, inside the
 * caller's transaction when given a UnitOfWork.
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
    const params: unknown[] = [];
    await this.db.execute(offsetsUpsert([{ group, clusterId, offsets }], params), params, PREPARED);
  }

  /** Not prepared: its generic plan reads the group's whole index range (README, prepared statements). */
  async seenEventIds(group: string, eventIds: string[]): Promise<Set<string>> {
    if (!eventIds.length) return new Set();
    const rows = await this.db.query<{ event_id: string }>('SELECT event_id FROM cm_inbox WHERE consumer_group = $1 AND event_id = ANY($2)', [group, eventIds]);
    return new Set(rows.map((r) => r.event_id));
  }

  /** One multi-row insert; an id already there fails it (`isInboxConflict`), as in `closeChunk`. */
  async insertInbox(group: string, rows: InboxRow[]): Promise<void> {
    if (!rows.length) return;
    const params: unknown[] = [];
    await this.db.execute(inboxInsert([{ group, rows }], params), params, PREPARED);
  }

  /** One multi-row insert of encoded events (the relay publishes them after commit). */
  async insertOutbox(rows: OutboxRow[]): Promise<void> {
    if (!rows.length) return;
    const params: unknown[] = [];
    await this.db.execute(outboxInsert(rows, params), params, PREPARED);
  }

  /**
   * The end of a consumer transaction in one statement: the inbox rows and stored offsets of every
   * definition in it and the outbox rows of all, as data-modifying CTEs of one INSERT — instead of
   * an inbox insert and an offsets upsert per definition plus an outbox insert, each a round trip.
   * The three touch different tables and none reads another's rows, so one snapshot serves them all.
   * The handlers' deferred writes (`uow.deferWrite`: writes to their own tables nobody reads back in
   * the transaction) ride along the same way, first. With `returnStat` (and stat rows to write) the
   * same statement returns what the relay needs to publish them without selecting them back.
   */
  async closeChunk(close: ChunkClose): Promise<StatRowsWritten | undefined> {
    const inbox = close.inbox.filter((i) => i.rows.length);
    const offsets = close.offsets.filter((o) => o.offsets.length);
    const params: unknown[] = [];
    const deferred = (close.deferred ?? []).map((write) => bindDeferred(write, params));
    const stat = close.returnStat ? statRowsByKey(close.outbox) : undefined;
    const statements = [
      ...deferred,
      ...(inbox.length ? [inboxInsert(inbox, params)] : []),
      ...(offsets.length ? [offsetsUpsert(offsets, params)] : []),
      ...(close.outbox.length ? [outboxInsert(close.outbox, params) + (stat ? ' RETURNING id, event_id, topic, tier_rank' : '')] : []),
    ];
    // Prepared when it is the runtime's own writes alone (inserts of array-bound rows: one plan fits any
    // size). With a handler's deferred writes it is planned per call: their plans depend on the rows
    // (identity's record upsert reads each record's previous keys — 4.5 ms a call on a generic plan).
    const options = deferred.length ? undefined : PREPARED;
    if (!stat) {
      if (statements.length) await this.db.execute(combinedStatement(statements), params, options);
      return undefined;
    }
    // The outbox insert becomes a CTE like the others; the statement's own result is its stat rows'
    // ids, and whether the outbox held other stat rows (a CTE's inserts are invisible to the rest).
    const written = `w${statements.length - 1}`;
    const returned = await this.db.query<{ id: string; event_id: string; topic: string; others: boolean }>(
      combinedStatement([...statements, `SELECT o.id::text AS id, o.event_id, o.topic, EXISTS (SELECT 1 FROM cm_outbox WHERE tier_rank = 0) AS others FROM ${written} o WHERE o.tier_rank = 0`]),
      params,
      options,
    );
    const rows = returned.map((r) => ({ id: r.id, row: stat.get(statRowKey(r.event_id, r.topic)) }));
    if (rows.length !== stat.size || rows.some((r) => !r.row)) return undefined;
    return { rows: rows as StatRowsWritten['rows'], othersWaiting: returned.some((r) => r.others) };
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

  /** The dead letters whose event carries `correlationId`, oldest first. */
  async deadLettersOfCorrelation(correlationId: string, limit: number): Promise<StoredDeadLetter[]> {
    const rows = await this.db.query<Record<string, unknown>>(
      'SELECT * FROM cm_dead_letters WHERE headers->>$2 = $1 ORDER BY failed_at, id LIMIT $3',
      [correlationId, HEADER.correlationId, limit],
    );
    return rows.map(toDeadLetter);
  }

  /** The events emitted for `correlationId`, waiting or published (while retained), oldest first. */
  async emittedOfCorrelation(correlationId: string, limit: number): Promise<EmittedRow[]> {
    const rows = await this.db.query<Record<string, unknown>>(
      `WITH out AS (
         SELECT event_id, topic, headers, created_at, NULL::timestamptz AS published_at, value FROM cm_outbox WHERE headers->>$2 = $1
         UNION ALL
         SELECT event_id, topic, headers, created_at, published_at, value FROM cm_outbox_published WHERE headers->>$2 = $1)
       SELECT o.*, (SELECT min(i.processed_at) FROM cm_inbox i WHERE i.event_id = o.headers->>$3) AS consumed_at
         FROM out o ORDER BY o.created_at, o.event_id LIMIT $4`,
      [correlationId, HEADER.correlationId, HEADER.causationId, limit],
    );
    return rows.map((r) => ({
      eventId: r.event_id as string, topic: r.topic as string, headers: r.headers as Record<string, string>, createdAt: new Date(r.created_at as string),
      publishedAt: dateOrNull(r.published_at), causeConsumedAt: dateOrNull(r.consumed_at), value: r.value as Buffer,
    }));
  }

  /** The correlation id of an event this service emitted (waiting or retained) or dead-lettered. */
  async correlationOfEvent(eventId: string): Promise<string | null> {
    const rows = await this.db.query<{ c: string | null }>(
      `SELECT headers->>$2 AS c FROM cm_outbox WHERE event_id = $1
       UNION ALL SELECT headers->>$2 FROM cm_outbox_published WHERE event_id = $1
       UNION ALL SELECT headers->>$2 FROM cm_dead_letters WHERE headers->>$3 = $1 LIMIT 1`,
      [eventId, HEADER.correlationId, HEADER.eventId],
    );
    return rows[0]?.c ?? null;
  }

  /** The inbox entries of these events, in processing order. */
  async inboxEntries(eventIds: string[]): Promise<InboxEntry[]> {
    if (!eventIds.length) return [];
    const rows = await this.db.query<Record<string, unknown>>('SELECT consumer_group, event_id, topic, processed_at FROM cm_inbox WHERE event_id = ANY($1) ORDER BY processed_at, event_id', [eventIds]);
    return rows.map((r) => ({ eventId: r.event_id as string, consumerGroup: r.consumer_group as string, topic: r.topic as string, processedAt: new Date(r.processed_at as string) }));
  }
}

const dateOrNull = (v: unknown): Date | null => (v === null || v === undefined ? null : new Date(v as string));

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
    redrivenAt: dateOrNull(r.redriven_at),
    lastRedriveError: (r.last_redrive_error as string | null) ?? null,
  };
}

/*
 * The builders below bind rows as arrays (`unnest`), so a statement's text depends only on which parts
 * it has, never on how many rows: it can run prepared, planned once per connection (a VALUES list per
 * row was parsed and planned anew each time: 0.4–0.8 ms of a one-event closing statement).
 */

/**
 * `INSERT INTO cm_inbox …` for several groups' rows; its parameters are appended to `params`. An event id
 * the group already has fails the statement, and with it the transaction (`isInboxConflict`): the consumer
 * handles a chunk before it knows whether any of it was seen (batch-processor.ts, optimistic inbox), and a
 * duplicate handled by two transactions at once must not commit twice.
 */
function inboxInsert(groups: Array<{ group: string; rows: InboxRow[] }>, params: unknown[]): string {
  const rows = groups.flatMap(({ group, rows }) => rows.map((r) => ({ group, ...r })));
  const b = params.length + 1;
  params.push(rows.map((r) => r.group), rows.map((r) => r.eventId), rows.map((r) => r.topic), rows.map((r) => r.partition), rows.map((r) => r.offset));
  return `INSERT INTO cm_inbox (consumer_group, event_id, topic, partition, "offset")
       SELECT * FROM unnest($${b}::text[], $${b + 1}::text[], $${b + 2}::text[], $${b + 3}::int[], $${b + 4}::bigint[])`;
}

/** The name of the inbox's key: a unique violation on it is a duplicate event, not a fault. */
const INBOX_KEY = 'cm_inbox_pkey';

/** Whether `error` is an inbox insert that met an event id already there (PostgreSQL 23505 on `cm_inbox_pkey`). */
export function isInboxConflict(error: unknown): boolean {
  const e = error as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } } | undefined;
  const pg = e?.driverError ?? e;
  return pg?.code === '23505' && pg?.constraint === INBOX_KEY;
}

/** `INSERT INTO cm_consumer_offsets … ON CONFLICT DO UPDATE` for several groups' partitions. */
function offsetsUpsert(groups: Array<{ group: string; clusterId: string; offsets: PartitionOffset[] }>, params: unknown[]): string {
  const rows = groups.flatMap(({ group, clusterId, offsets }) => offsets.map((o) => ({ group, clusterId, ...o })));
  const b = params.length + 1;
  params.push(rows.map((r) => r.group), rows.map((r) => r.topic), rows.map((r) => r.partition), rows.map((r) => r.next), rows.map((r) => r.clusterId));
  return `INSERT INTO cm_consumer_offsets (consumer_group, topic, partition, next_offset, cluster_id, updated_at)
       SELECT g, t, p, n, c, now() FROM unnest($${b}::text[], $${b + 1}::text[], $${b + 2}::int[], $${b + 3}::bigint[], $${b + 4}::text[]) AS o(g, t, p, n, c)
       ON CONFLICT (consumer_group, topic, partition) DO UPDATE
       SET next_offset = EXCLUDED.next_offset, cluster_id = EXCLUDED.cluster_id, updated_at = now()`;
}

/** The stat rows of `rows` by event id and topic; undefined when there are none or two share a key (not returned then). */
function statRowsByKey(rows: OutboxRow[]): Map<string, OutboxRow> | undefined {
  const stat = rows.filter((r) => r.tierRank === 0);
  const byKey = new Map(stat.map((r) => [statRowKey(r.eventId, r.topic), r]));
  return stat.length && byKey.size === stat.length ? byKey : undefined;
}

function statRowKey(eventId: string, topic: string): string {
  return `${eventId}\u0000${topic}`;
}

/**
 * `INSERT INTO cm_outbox …` of encoded events, in order (the relay publishes by id: ids follow the given order).
 * The values travel as one binary parameter, cut by offset and length: node-postgres sends a `Buffer`
 * parameter as bytes, but a `bytea[]` element as hex text escaped for an array literal — two copies at twice
 * the size on every event of every service, and what the PostgreSQL backend then had to parse back.
 */
function outboxInsert(rows: OutboxRow[], params: unknown[]): string {
  const b = params.length + 1;
  const starts: number[] = [];
  const lengths: number[] = [];
  let at = 1;
  for (const r of rows) {
    starts.push(at);
    lengths.push(r.value.length);
    at += r.value.length;
  }
  params.push(rows.map((r) => r.eventId), rows.map((r) => r.topic), rows.map((r) => r.key), Buffer.concat(rows.map((r) => r.value), at - 1), starts,
    lengths, rows.map((r) => JSON.stringify(r.headers)), rows.map((r) => r.tierRank));
  return `INSERT INTO cm_outbox (event_id, topic, message_key, value, headers, tier_rank)
       SELECT e, t, k, substring($${b + 3}::bytea FROM s FOR l), h::jsonb, r
         FROM unnest($${b}::text[], $${b + 1}::text[], $${b + 2}::text[], $${b + 4}::int[], $${b + 5}::int[], $${b + 6}::text[], $${b + 7}::smallint[])
         WITH ORDINALITY AS o(e, t, k, s, l, h, r, n) ORDER BY n`;
}
