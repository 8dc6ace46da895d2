import { createHash } from 'node:crypto';
import type { CandidateStore } from './candidate-store.port';
import { CandidateStoreError } from '../empi.errors';
import type { PersonRecord, StoredRecord } from '../record/person-record.model';
import { normalizeName } from '../record/person-record.normalizer';
import type { NameCounts } from '../frequency/name-frequency.model';
import { keyEvidence } from '../matching/blocking-key.generator';

/**
 * The one thing the store needs from a database connection: run a statement
 * and get its rows. A service passes its unit of work (the event's
 * transaction), so candidate search, save and the service's own effects
 * commit or roll back together.
 */
export interface SqlExecutor {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

interface RecordRow {
  record_id: string;
  person_id: string;
  data: PersonRecord;
  shared?: string | number;
}

/**
 * CandidateStore over any PostgreSQL executor, on the `EMPI_PG_MIGRATION`
 * tables. Unlike `PgCandidateStore` (which owns a pool and opens its own
 * transactions) it never commits: it runs inside the caller's transaction.
 *
 * Concurrency: `lockKeys` takes a transaction-scoped advisory lock per
 * blocking key, in one global order (sorted 64-bit hashes) so two
 * transactions cannot deadlock on them. Two records of one new person share
 * at least one blocking key (or they could never be candidates of each
 * other), so the later transaction waits on that key until the earlier one
 * commits and then sees its record in the candidate search.
 */
/** Records read per blocking key in a candidate search. */
export const PER_KEY_FANOUT = 500;

/**
 * Candidates with the most blocking-key evidence ($1 keys, $2 limit, $3 each key's evidence —
 * `keyEvidence` — $4 least evidence). Each key contributes at most PER_KEY_FANOUT records (an
 * index range scan), so a very common key (a big postcode, a common surname) cannot make every
 * search read a large share of the index; records below the least evidence are dropped before
 * any payload is read.
 */
export const CANDIDATE_SEARCH_SQL = `WITH hits AS (
   SELECT b.record_id, sum(k.evidence) AS shared
     FROM unnest($1::text[], $3::int[]) AS k(key, evidence)
     CROSS JOIN LATERAL (
       SELECT record_id FROM empi_blocking_key WHERE key = k.key ORDER BY record_id LIMIT ${PER_KEY_FANOUT}) AS b
    GROUP BY b.record_id
   HAVING sum(k.evidence) >= $4
    ORDER BY shared DESC, b.record_id
    LIMIT $2)
 SELECT r.record_id, r.person_id, r.data, h.shared
   FROM hits h JOIN empi_record r USING (record_id)
  ORDER BY h.shared DESC, r.record_id`;

/**
 * Candidates of a whole chunk in one statement ($1 ordinals, $2 keys, $5 each key's evidence —
 * parallel arrays; $3 limit per ordinal; $4 least evidence). Each distinct key is read once
 * (bounded, indexed fan-out), hits below the least evidence are dropped before any payload is
 * read, the rest are ranked per ordinal, and a record's payload is sent once even when it is a
 * candidate of several records.
 */
export const CHUNK_CANDIDATE_SEARCH_SQL = `WITH q AS (SELECT DISTINCT ord, key, evidence FROM unnest($1::int[], $2::text[], $5::int[]) AS q(ord, key, evidence)),
 k AS (SELECT DISTINCT key FROM q),
 kb AS (SELECT k.key, b.record_id FROM k CROSS JOIN LATERAL (
          SELECT record_id FROM empi_blocking_key WHERE key = k.key ORDER BY record_id LIMIT ${PER_KEY_FANOUT}) AS b),
 hits AS (SELECT q.ord, kb.record_id, sum(q.evidence) AS shared FROM q JOIN kb USING (key) GROUP BY q.ord, kb.record_id HAVING sum(q.evidence) >= $4),
 ranked AS (SELECT ord, record_id, shared, row_number() OVER (PARTITION BY ord ORDER BY shared DESC, record_id) AS rn FROM hits)
 SELECT r.ord, r.record_id, e.person_id, r.shared,
        CASE WHEN row_number() OVER (PARTITION BY r.record_id ORDER BY r.ord) = 1 THEN e.data END AS data
   FROM ranked r
   -- One primary-key probe per hit, whatever the planner believes about the table (never a scan of the index's records).
   CROSS JOIN LATERAL (SELECT person_id, data FROM empi_record WHERE empi_record.record_id = r.record_id) AS e
  WHERE r.rn <= $3
  ORDER BY r.ord, r.shared DESC, r.record_id`;

export class SqlCandidateStore implements CandidateStore {
  constructor(private readonly sql: SqlExecutor) {}

  async lockKeys(keys: string[]): Promise<void> {
    const hashes = [...new Set(keys.map(advisoryKey))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (hashes.length === 0) return;
    await this.run('lockKeys', () =>
      // The ordered sub-select fixes the acquisition order: the outer scan calls the lock function row by row in that order.
      this.sql.query('SELECT count(pg_advisory_xact_lock(k)) AS n FROM (SELECT unnest($1::bigint[]) AS k ORDER BY 1) AS ordered', [hashes.map(String)]),
    );
  }

  async findCandidates(blockingKeys: string[], limit: number, minEvidence = 1): Promise<StoredRecord[]> {
    if (blockingKeys.length === 0) return [];
    const rows = await this.run('findCandidates', () => this.sql.query<RecordRow>(CANDIDATE_SEARCH_SQL, candidateSearchParams(blockingKeys, limit, minEvidence)));
    return rows.map((r) => ({ recordId: r.record_id, personId: r.person_id, record: r.data, sharedKeys: Number(r.shared) }));
  }

  async findCandidatesBatch(keySets: string[][], limit: number, minEvidence = 1): Promise<StoredRecord[][]> {
    const ords: number[] = [];
    const keys: string[] = [];
    keySets.forEach((set, i) => {
      for (const k of set) {
        ords.push(i);
        keys.push(k);
      }
    });
    const out: StoredRecord[][] = keySets.map(() => []);
    if (!keys.length) return out;
    const rows = await this.run('findCandidatesBatch', () =>
      this.sql.query<RecordRow & { ord: number }>(CHUNK_CANDIDATE_SEARCH_SQL, [ords, keys, limit, minEvidence, keys.map(keyEvidence)]),
    );
    const payload = new Map<string, PersonRecord>();
    for (const r of rows) if (r.data) payload.set(r.record_id, r.data);
    // One StoredRecord object per record, shared by every ordinal it is a candidate of (normalised once).
    const shared = new Map<string, StoredRecord>();
    for (const r of rows) {
      let base = shared.get(r.record_id);
      if (!base) shared.set(r.record_id, (base = { recordId: r.record_id, personId: r.person_id, record: payload.get(r.record_id)! }));
      out[Number(r.ord)].push({ ...base, sharedKeys: Number(r.shared) });
    }
    return out;
  }

  async recordsOfPersons(personIds: string[], limitPerPerson: number): Promise<StoredRecord[]> {
    if (!personIds.length) return [];
    const rows = await this.run('recordsOfPersons', () =>
      this.sql.query<RecordRow>(
        `SELECT record_id, person_id, data FROM (
           SELECT record_id, person_id, data, row_number() OVER (PARTITION BY person_id ORDER BY updated_at DESC, record_id) AS rn
             FROM empi_record WHERE person_id = ANY($1::text[])) AS x
          WHERE rn <= $2 ORDER BY person_id, record_id`,
        [[...new Set(personIds)], limitPerPerson],
      ),
    );
    return rows.map((r) => ({ recordId: r.record_id, personId: r.person_id, record: r.data }));
  }

  /** Upserts records, drops their stale keys and adds the new ones: one statement for the whole chunk. */
  async saveMany(entries: Array<{ record: PersonRecord; personId: string; blockingKeys: string[] }>): Promise<void> {
    if (!entries.length) return;
    const keyRecord: string[] = [];
    const keys: string[] = [];
    for (const e of entries) {
      for (const k of new Set(e.blockingKeys)) {
        keys.push(k);
        keyRecord.push(e.record.recordId);
      }
    }
    await this.run('saveMany', () =>
      this.sql.query(
        `WITH rec AS (
           INSERT INTO empi_record (record_id, person_id, source_system, data, updated_at)
           SELECT r, p, s, d, clock_timestamp() FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[]) AS t(r, p, s, d)
           ON CONFLICT (record_id) DO UPDATE
             SET person_id = EXCLUDED.person_id, source_system = EXCLUDED.source_system, data = EXCLUDED.data, updated_at = EXCLUDED.updated_at
           RETURNING record_id),
         nk AS (SELECT DISTINCT k AS key, r AS record_id FROM unnest($5::text[], $6::text[]) AS t(k, r)),
         stale AS (DELETE FROM empi_blocking_key b WHERE b.record_id = ANY($1::text[])
                     AND NOT EXISTS (SELECT 1 FROM nk WHERE nk.key = b.key AND nk.record_id = b.record_id))
         INSERT INTO empi_blocking_key (key, record_id) SELECT key, record_id FROM nk ON CONFLICT DO NOTHING`,
        [
          entries.map((e) => e.record.recordId), entries.map((e) => e.personId), entries.map((e) => e.record.sourceSystem ?? null),
          entries.map((e) => JSON.stringify(e.record)), keys, keyRecord,
        ],
      ),
    );
  }

  /** Raw given / family name counts over the index (the input of a frequency snapshot). */
  async nameCounts(): Promise<NameCounts> {
    const rows = await this.run('nameCounts', () =>
      this.sql.query<{ field: string; name: string | null; n: string | number }>(
        `SELECT 'total' AS field, NULL AS name, count(*) AS n FROM empi_record
         UNION ALL SELECT 'given', data->>'givenName', count(*) FROM empi_record WHERE data ? 'givenName' GROUP BY 2
         UNION ALL SELECT 'family', data->>'familyName', count(*) FROM empi_record WHERE data ? 'familyName' GROUP BY 2`,
      ),
    );
    const given = new Map<string, number>();
    const family = new Map<string, number>();
    let total = 0;
    for (const r of rows) {
      if (r.field === 'total') total = Number(r.n);
      const name = normalizeName(r.name);
      if (!name) continue;
      const table = r.field === 'given' ? given : family;
      table.set(name, (table.get(name) ?? 0) + Number(r.n));
    }
    return { total, given, family };
  }

  async save(record: PersonRecord, personId: string, blockingKeys: string[]): Promise<void> {
    await this.run('save', async () => {
      await this.sql.query(
        `INSERT INTO empi_record (record_id, person_id, source_system, data, updated_at)
         VALUES ($1, $2, $3, $4::jsonb, now())
         ON CONFLICT (record_id) DO UPDATE
           SET person_id = EXCLUDED.person_id, source_system = EXCLUDED.source_system, data = EXCLUDED.data, updated_at = now()`,
        [record.recordId, personId, record.sourceSystem ?? null, JSON.stringify(record)],
      );
      await this.sql.query('DELETE FROM empi_blocking_key WHERE record_id = $1', [record.recordId]);
      await this.sql.query('INSERT INTO empi_blocking_key (key, record_id) SELECT DISTINCT k, $2 FROM unnest($1::text[]) AS k', [blockingKeys, record.recordId]);
    });
  }

  async assignPerson(recordIds: string[], personId: string): Promise<void> {
    if (recordIds.length === 0) return;
    await this.run('assignPerson', () =>
      this.sql.query('UPDATE empi_record SET person_id = $2, updated_at = now() WHERE record_id = ANY($1::text[])', [recordIds, personId]),
    );
  }

  async recordsOfPerson(personId: string): Promise<StoredRecord[]> {
    const rows = await this.run('recordsOfPerson', () =>
      this.sql.query<RecordRow>('SELECT record_id, person_id, data FROM empi_record WHERE person_id = $1 ORDER BY record_id', [personId]),
    );
    return rows.map((r) => ({ recordId: r.record_id, personId: r.person_id, record: r.data }));
  }

  /** One stored record, or undefined. */
  async record(recordId: string): Promise<StoredRecord | undefined> {
    const rows = await this.run('record', () =>
      this.sql.query<RecordRow>('SELECT record_id, person_id, data FROM empi_record WHERE record_id = $1', [recordId]),
    );
    return rows[0] ? { recordId: rows[0].record_id, personId: rows[0].person_id, record: rows[0].data } : undefined;
  }

  private async run<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw new CandidateStoreError(`empi store ${operation} failed`, error);
    }
  }
}

/** Parameters of CANDIDATE_SEARCH_SQL: distinct keys, limit, each key's evidence, least evidence. */
export function candidateSearchParams(blockingKeys: string[], limit: number, minEvidence: number): unknown[] {
  const keys = [...new Set(blockingKeys)];
  return [keys, limit, keys.map(keyEvidence), minEvidence];
}

/** Signed 64-bit advisory-lock key of a string (first 8 bytes of its SHA-256). */
export function advisoryKey(value: string): bigint {
  return createHash('sha256').update(value).digest().readBigInt64BE(0);
}
