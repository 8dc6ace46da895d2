import { MigrationInterface, QueryRunner } from 'typeorm';
import { EMPI_PG_MIGRATION, EMPI_PG_MIGRATION_V2, EMPI_PG_MIGRATION_V3, SqlCandidateStore, advisoryKey, type CandidateRecordCache, type FieldContribution, type MatchExplanation, type NameCounts } from '@clinmesh/empi';
import { PREPARED, type UnitOfWork } from '@clinmesh/event-runtime';
import { ParameterSetRepository } from './parameter-set.repository';
import type { ChunkOutcome, MergeRow, PersonIndexPort, PersonRow, PersonStatus, RecordLink, ReviewItemInput, ReviewItemRow, ReviewStatus } from '../../domain/person-index.port';
import { isoTime, isoTimeOrNull } from './row-times';

// The chunk path's lock and writes run PREPARED. Reads by `= ANY($1)` stay unnamed: their generic plan
// does not know the array's length (the link read 0.9 ms a call against 0.25 planned each time).

/**
 * The master patient index in identity-resolution's own database, always
 * inside the caller's transaction (the event's `ctx.uow` or an HTTP
 * request's `runtime.transaction`).
 */
export class PersonIndexRepository implements PersonIndexPort {
  readonly candidates: SqlCandidateStore;
  readonly parameters: ParameterSetRepository;

  /** `candidateCache`: candidate records read in earlier transactions (kept by the consumer; checked against each record's stored version). */
  constructor(private readonly uow: UnitOfWork, candidateCache?: CandidateRecordCache) {
    this.candidates = new SqlCandidateStore(uow, candidateCache);
    this.parameters = new ParameterSetRepository(uow);
  }

  async lockPersons(epids: string[]): Promise<void> {
    const keys = [...new Set(epids)].map((e) => advisoryKey(`person:${e}`)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (!keys.length) return;
    await this.uow.query('SELECT count(pg_advisory_xact_lock(k)) AS n FROM (SELECT unnest($1::bigint[]) AS k ORDER BY 1) AS ordered', [keys.map(String)], PREPARED);
  }

  async person(epid: string): Promise<PersonRow | undefined> {
    const rows = await this.uow.query<Record<string, unknown>>('SELECT epid, status, merged_into, created_at, updated_at FROM ir_person WHERE epid = $1', [epid]);
    return rows[0] ? toPerson(rows[0]) : undefined;
  }

  async createPerson(epid: string): Promise<boolean> {
    return (await this.uow.execute(`INSERT INTO ir_person (epid, status) VALUES ($1, 'active') ON CONFLICT (epid) DO NOTHING`, [epid])) > 0;
  }

  async setPersonStatus(epid: string, status: PersonStatus, mergedInto: string | null): Promise<void> {
    await this.uow.execute('UPDATE ir_person SET status = $2, merged_into = $3, updated_at = now() WHERE epid = $1', [epid, status, mergedInto]);
  }

  async link(recordId: string): Promise<RecordLink | undefined> {
    const rows = await this.uow.query<Record<string, unknown>>(`${LINK_SELECT} WHERE l.record_id = $1`, [recordId]);
    return rows[0] ? toLink(rows[0]) : undefined;
  }

  async recordsWithIdentifier(system: string, value: string): Promise<Array<{ recordId: string; epid: string }>> {
    const rows = await this.uow.query<{ record_id: string; person_id: string }>(
      `SELECT record_id, person_id FROM empi_record WHERE data -> 'identifiers' @> $1::jsonb ORDER BY record_id LIMIT 100`,
      [JSON.stringify([{ system, value }])],
    );
    return rows.map((r) => ({ recordId: r.record_id, epid: r.person_id }));
  }

  async links(epid: string): Promise<RecordLink[]> {
    return (await this.uow.query<Record<string, unknown>>(`${LINK_SELECT} WHERE l.epid = $1 ORDER BY l.linked_at, l.record_id`, [epid])).map(toLink);
  }

  async saveLink(link: RecordLink): Promise<void> {
    await this.saveLinks([link]);
  }

  async moveLinks(recordIds: string[], epid: string): Promise<void> {
    if (!recordIds.length) return;
    await this.uow.execute('UPDATE ir_link SET epid = $2, updated_at = now() WHERE record_id = ANY($1::text[])', [recordIds, epid]);
    await this.candidates.assignPerson(recordIds, epid);
  }

  async insertReviewItem(item: Omit<ReviewItemRow, 'status' | 'version' | 'createdAt' | 'decidedAt' | 'decidedBy'>): Promise<boolean> {
    return (await this.insertReviewItems([item])) > 0;
  }

  async reviewItem(id: string): Promise<ReviewItemRow | undefined> {
    const rows = await this.uow.query<Record<string, unknown>>(`${REVIEW_SELECT} WHERE id = $1`, [id]);
    return rows[0] ? toReview(rows[0]) : undefined;
  }

  async reviewItems(status: ReviewStatus | 'all', limit: number): Promise<ReviewItemRow[]> {
    const rows = await this.uow.query<Record<string, unknown>>(`${REVIEW_SELECT} WHERE ($1 = 'all' OR status = $1) ORDER BY created_at, id LIMIT $2`, [status, limit]);
    return rows.map(toReview);
  }

  async decideReviewItem(id: string, version: number, status: Exclude<ReviewStatus, 'open'>, actor: string): Promise<ReviewItemRow | undefined> {
    const rows = await this.uow.query<Record<string, unknown>>(
      `WITH u AS (UPDATE ir_review_item SET status = $3, version = version + 1, decided_at = now(), decided_by = $4
                   WHERE id = $1 AND version = $2 AND status = 'open' RETURNING *)
       ${REVIEW_SELECT.replace('FROM ir_review_item', 'FROM u')}`,
      [id, version, status, actor],
    );
    return rows[0] ? toReview(rows[0]) : undefined;
  }

  async insertMerge(merge: Omit<MergeRow, 'createdAt' | 'undoneAt'>): Promise<void> {
    await this.uow.execute(
      'INSERT INTO ir_merge (id, survivor_epid, retired_epid, record_ids, reason) VALUES ($1, $2, $3, $4::text[], $5) ON CONFLICT (id) DO NOTHING',
      [merge.id, merge.survivorEpid, merge.retiredEpid, merge.recordIds, merge.reason],
    );
  }

  async mergesInto(epid: string): Promise<MergeRow[]> {
    const rows = await this.uow.query<Record<string, unknown>>(
      'SELECT id, survivor_epid, retired_epid, record_ids, reason, created_at, undone_at FROM ir_merge WHERE survivor_epid = $1 AND undone_at IS NULL ORDER BY created_at DESC, id',
      [epid],
    );
    return rows.map(toMerge);
  }

  async markMergeUndone(id: string): Promise<void> {
    await this.uow.execute('UPDATE ir_merge SET undone_at = now() WHERE id = $1', [id]);
  }

  async linksOf(recordIds: string[]): Promise<Map<string, RecordLink>> {
    if (!recordIds.length) return new Map();
    const rows = await this.uow.query<Record<string, unknown>>(`${LINK_SELECT} WHERE l.record_id = ANY($1::text[])`, [[...new Set(recordIds)]]);
    return new Map(rows.map((r) => [String(r.record_id), toLink(r)]));
  }

  async persons(epids: string[]): Promise<Map<string, PersonRow>> {
    if (!epids.length) return new Map();
    const rows = await this.uow.query<Record<string, unknown>>('SELECT epid, status, merged_into, created_at, updated_at FROM ir_person WHERE epid = ANY($1::text[])', [[...new Set(epids)]]);
    return new Map(rows.map((r) => [String(r.epid), toPerson(r)]));
  }

  async createPersons(epids: string[]): Promise<Set<string>> {
    if (!epids.length) return new Set();
    const rows = await this.uow.query<{ epid: string }>(
      `INSERT INTO ir_person (epid, status) SELECT e, 'active' FROM unnest($1::text[]) AS e ON CONFLICT (epid) DO NOTHING RETURNING epid`, [[...new Set(epids)]], PREPARED,
    );
    return new Set(rows.map((r) => r.epid));
  }

  async saveLinks(links: RecordLink[]): Promise<void> {
    if (links.length) await this.uow.execute(SAVE_LINKS_SQL, saveLinksParams(links), PREPARED);
  }

  /** Rows inserted (an id already there is left as it is). */
  async insertReviewItems(items: ReviewItemInput[]): Promise<number> {
    return items.length ? this.uow.execute(INSERT_REVIEW_ITEMS_SQL, reviewItemsParams(items), PREPARED) : 0;
  }

  async saveChunk(chunk: ChunkOutcome, options: { deferred?: boolean } = {}): Promise<void> {
    if (!options.deferred) {
      await this.candidates.saveMany(chunk.records);
      await this.saveLinks(chunk.links);
      await this.insertReviewItems(chunk.reviews);
      return;
    }
    const defer = (sql: string, params: unknown[]) => this.uow.deferWrite(sql, params);
    await this.candidates.saveMany(chunk.records, { defer });
    if (chunk.links.length) defer(SAVE_LINKS_SQL, saveLinksParams(chunk.links));
    if (chunk.reviews.length) defer(INSERT_REVIEW_ITEMS_SQL, reviewItemsParams(chunk.reviews));
  }

  async latestFrequencySnapshot(): Promise<{ version: string; counts: NameCounts } | undefined> {
    const rows = await this.uow.query<{ version: string; total: number; given: Record<string, number>; family: Record<string, number> }>(
      'SELECT version, total, given, family FROM empi_frequency_snapshot ORDER BY created_at DESC, version DESC LIMIT 1',
    );
    const r = rows[0];
    return r ? { version: r.version, counts: { total: Number(r.total), given: new Map(Object.entries(r.given)), family: new Map(Object.entries(r.family)) } } : undefined;
  }

  async saveFrequencySnapshot(version: string, counts: NameCounts): Promise<void> {
    await this.uow.execute(
      'INSERT INTO empi_frequency_snapshot (version, total, given, family) VALUES ($1, $2, $3::jsonb, $4::jsonb) ON CONFLICT (version) DO NOTHING',
      [version, counts.total, JSON.stringify(Object.fromEntries(counts.given)), JSON.stringify(Object.fromEntries(counts.family))],
    );
  }
}

const LINK_SELECT = 'SELECT l.record_id, l.epid, l.method, l.score, l.contributions, l.candidate_record_id, l.source_system, l.explanation FROM ir_link l';
const REVIEW_SELECT = `SELECT id, record_id, provisional_epid, candidate_epid, candidate_record_id, candidate_epids, score, contributions, thresholds, explanation, status, version,
  created_at, decided_at, decided_by FROM ir_review_item`;

function toPerson(r: Record<string, unknown>): PersonRow {
  return { epid: String(r.epid), status: r.status as PersonStatus, mergedInto: (r.merged_into as string | null) ?? null, createdAt: isoTime(r.created_at), updatedAt: isoTime(r.updated_at) };
}

function toLink(r: Record<string, unknown>): RecordLink {
  return {
    recordId: String(r.record_id), epid: String(r.epid), method: String(r.method), score: r.score === null ? null : Number(r.score),
    contributions: (r.contributions as FieldContribution[]) ?? [], candidateRecordId: (r.candidate_record_id as string | null) ?? null,
    sourceSystem: (r.source_system as string | null) ?? null, explanation: (r.explanation as MatchExplanation | null) ?? null,
  };
}

function toReview(r: Record<string, unknown>): ReviewItemRow {
  return {
    id: String(r.id), recordId: String(r.record_id), provisionalEpid: String(r.provisional_epid), candidateEpid: String(r.candidate_epid),
    candidateRecordId: String(r.candidate_record_id), score: Number(r.score), contributions: (r.contributions as FieldContribution[]) ?? [],
    candidateEpids: (r.candidate_epids as string[] | null)?.length ? (r.candidate_epids as string[]) : [String(r.candidate_epid)],
    thresholds: r.thresholds as { upper: number; lower: number }, explanation: (r.explanation as MatchExplanation | null) ?? null,
    status: r.status as ReviewStatus, version: Number(r.version),
    createdAt: isoTime(r.created_at), decidedAt: isoTimeOrNull(r.decided_at), decidedBy: (r.decided_by as string | null) ?? null,
  };
}

function toMerge(r: Record<string, unknown>): MergeRow {
  return {
    id: String(r.id), survivorEpid: String(r.survivor_epid), retiredEpid: String(r.retired_epid), recordIds: r.record_ids as string[],
    reason: String(r.reason), createdAt: isoTime(r.created_at), undoneAt: isoTimeOrNull(r.undone_at),
  };
}

/** The first skeleton's tables (exact source key → person). */
export class PersonIndexTables1732200001000 implements MigrationInterface {
  name = 'PersonIndexTables1732200001000';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE ir_person (epid text PRIMARY KEY, status text NOT NULL DEFAULT 'active', created_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(`CREATE TABLE ir_source_record (source_key text PRIMARY KEY, epid text NOT NULL REFERENCES ir_person(epid) DEFERRABLE INITIALLY DEFERRED, linked_at timestamptz NOT NULL DEFAULT now())`);
    await q.query('CREATE INDEX ir_source_record_epid ON ir_source_record (epid)');
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS ir_source_record');
    await q.query('DROP TABLE IF EXISTS ir_person');
  }
}

/**
 * The EMPI: the candidate store of @clinmesh/empi (records with their
 * demographics and indexed blocking keys), links with score and per-field
 * contributions, review items, merge history. Records linked by the first
 * skeleton are carried over (no demographics yet: they match by record id
 * until their next message brings demographics).
 */
export class MasterPatientIndexTables1732200001100 implements MigrationInterface {
  name = 'MasterPatientIndexTables1732200001100';
  async up(q: QueryRunner): Promise<void> {
    await q.query(EMPI_PG_MIGRATION);
    await q.query(`CREATE INDEX IF NOT EXISTS empi_record_identifiers_idx ON empi_record USING gin ((data -> 'identifiers') jsonb_path_ops)`);
    await q.query(`ALTER TABLE ir_person ADD COLUMN merged_into text NULL, ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now()`);
    await q.query(`CREATE TABLE ir_link (
      record_id text PRIMARY KEY, epid text NOT NULL, method text NOT NULL, score double precision NULL,
      contributions jsonb NOT NULL DEFAULT '[]', candidate_record_id text NULL, source_system text NULL,
      linked_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now())`);
    await q.query('CREATE INDEX ir_link_epid ON ir_link (epid)');
    await q.query(`CREATE TABLE ir_review_item (
      id text PRIMARY KEY, record_id text NOT NULL, provisional_epid text NOT NULL, candidate_epid text NOT NULL, candidate_record_id text NOT NULL,
      score double precision NOT NULL, contributions jsonb NOT NULL, thresholds jsonb NOT NULL,
      status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'linked', 'separated')), version integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(), decided_at timestamptz NULL, decided_by text NULL)`);
    await q.query('CREATE INDEX ir_review_item_status ON ir_review_item (status, created_at)');
    await q.query(`CREATE TABLE ir_merge (
      id text PRIMARY KEY, survivor_epid text NOT NULL, retired_epid text NOT NULL, record_ids text[] NOT NULL, reason text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT clock_timestamp(), undone_at timestamptz NULL)`);
    await q.query('CREATE INDEX ir_merge_survivor ON ir_merge (survivor_epid) WHERE undone_at IS NULL');
    await q.query(`INSERT INTO empi_record (record_id, person_id, data) SELECT source_key, epid, jsonb_build_object('recordId', source_key) FROM ir_source_record ON CONFLICT DO NOTHING`);
    await q.query(`INSERT INTO empi_blocking_key (key, record_id) SELECT 'r:' || source_key, source_key FROM ir_source_record ON CONFLICT DO NOTHING`);
    await q.query(`INSERT INTO ir_link (record_id, epid, method, linked_at) SELECT source_key, epid, 'deterministic-identifier', linked_at FROM ir_source_record ON CONFLICT DO NOTHING`);
    await q.query('DROP TABLE ir_source_record');
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE ir_source_record (source_key text PRIMARY KEY, epid text NOT NULL, linked_at timestamptz NOT NULL DEFAULT now())`);
    await q.query('INSERT INTO ir_source_record (source_key, epid, linked_at) SELECT record_id, epid, linked_at FROM ir_link');
    await q.query('DROP TABLE IF EXISTS ir_merge');
    await q.query('DROP TABLE IF EXISTS ir_review_item');
    await q.query('DROP TABLE IF EXISTS ir_link');
    await q.query('ALTER TABLE ir_person DROP COLUMN merged_into, DROP COLUMN updated_at');
    await q.query('DROP TABLE IF EXISTS empi_blocking_key');
    await q.query('DROP TABLE IF EXISTS empi_record');
  }
}

/**
 * EMPI v2: explanations stored with every link and review item (per-field levels and weights,
 * rules, totals, thresholds, parameter and frequency versions), the candidate persons of a review
 * item, and versioned name-frequency snapshots of the index (term-frequency adjustment).
 */
export class MasterPatientIndexExplanations1732200001200 implements MigrationInterface {
  name = 'MasterPatientIndexExplanations1732200001200';
  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE ir_link ADD COLUMN IF NOT EXISTS explanation jsonb NULL');
    await q.query(`ALTER TABLE ir_review_item ADD COLUMN IF NOT EXISTS explanation jsonb NULL, ADD COLUMN IF NOT EXISTS candidate_epids text[] NOT NULL DEFAULT '{}'`);
    await q.query(EMPI_PG_MIGRATION_V2);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS empi_frequency_snapshot');
    await q.query('ALTER TABLE ir_review_item DROP COLUMN IF EXISTS explanation, DROP COLUMN IF EXISTS candidate_epids');
    await q.query('ALTER TABLE ir_link DROP COLUMN IF EXISTS explanation');
  }
}

/**
 * EMPI v3 (speed): blocking keys as 64-bit hashes in `empi_key` with one B-tree, and each record's key
 * hashes on its row (`empi_record.keys`) so stale keys are found without a second index; the text-keyed
 * `empi_blocking_key` is converted and dropped (see `EMPI_PG_MIGRATION_V3`). Down recreates the old
 * empty table: a hash cannot be turned back into its key, so records get text keys again on their next save only.
 */
export class MasterPatientIndexKeyHashes1732200001400 implements MigrationInterface {
  name = 'MasterPatientIndexKeyHashes1732200001400';
  async up(q: QueryRunner): Promise<void> {
    await q.query(EMPI_PG_MIGRATION_V3);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('CREATE TABLE IF NOT EXISTS empi_blocking_key (key text NOT NULL, record_id text NOT NULL, PRIMARY KEY (record_id, key))');
    await q.query('CREATE INDEX IF NOT EXISTS empi_blocking_key_key_idx ON empi_blocking_key (key, record_id)');
    await q.query('DROP TABLE IF EXISTS empi_key');
    await q.query('ALTER TABLE empi_record DROP COLUMN IF EXISTS keys');
  }
}

/** Links of a chunk as one JSON document of rows: array parameters per column made the driver escape every explanation. */
const SAVE_LINKS_SQL = `INSERT INTO ir_link (record_id, epid, method, score, contributions, candidate_record_id, source_system, explanation)
   SELECT r, e, m, s, c, cr, ss, x FROM jsonb_to_recordset($1::jsonb) AS t(r text, e text, m text, s float8, c jsonb, cr text, ss text, x jsonb)
   ON CONFLICT (record_id) DO UPDATE SET epid = EXCLUDED.epid, method = EXCLUDED.method, score = EXCLUDED.score,
     contributions = EXCLUDED.contributions, candidate_record_id = EXCLUDED.candidate_record_id,
     source_system = EXCLUDED.source_system, explanation = EXCLUDED.explanation, updated_at = now()`;

function saveLinksParams(links: RecordLink[]): unknown[] {
  return [JSON.stringify(links.map((l) => ({
    r: l.recordId, e: l.epid, m: l.method, s: l.score, c: l.contributions, cr: l.candidateRecordId, ss: l.sourceSystem, x: l.explanation ?? null,
  })))];
}

const INSERT_REVIEW_ITEMS_SQL = `INSERT INTO ir_review_item (id, record_id, provisional_epid, candidate_epid, candidate_record_id, score, contributions, thresholds, explanation, candidate_epids)
   SELECT id, r, p, c, cr, s, co, t, x, ce
     FROM jsonb_to_recordset($1::jsonb) AS u(id text, r text, p text, c text, cr text, s float8, co jsonb, t jsonb, x jsonb, ce text[])
   ON CONFLICT (id) DO NOTHING`;

function reviewItemsParams(items: ReviewItemInput[]): unknown[] {
  return [JSON.stringify(items.map((i) => ({
    id: i.id, r: i.recordId, p: i.provisionalEpid, c: i.candidateEpid, cr: i.candidateRecordId, s: i.score, co: i.contributions, t: i.thresholds,
    x: i.explanation ?? null, ce: i.candidateEpids,
  })))];
}
