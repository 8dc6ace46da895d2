import { hash } from 'node:crypto';
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
 * Candidates with the most blocking-key evidence ($1 key hashes — `blockingKeyHash` — $2 limit, $3 each key's
 * evidence — `keyEvidence` — $4 least evidence). Each key contributes at most PER_KEY_FANOUT records (an
 * index range scan of `empi_key`'s primary key), so a very common key (a big postcode, a common surname)
 * cannot make every search read a large share of the index; records below the least evidence are dropped
 * before any payload is read.
 */
export const CANDIDATE_SEARCH_SQL = `WITH hits AS (
   SELECT b.record_id, sum(k.evidence) AS shared
     FROM unnest($1::bigint[], $3::int[]) AS k(key, evidence)
     CROSS JOIN LATERAL (
       SELECT record_id FROM empi_key WHERE empi_key.key = k.key ORDER BY record_id LIMIT ${PER_KEY_FANOUT}) AS b
    GROUP BY b.record_id
   HAVING sum(k.evidence) >= $4
    ORDER BY shared DESC, b.record_id
    LIMIT $2)
 SELECT r.record_id, r.person_id, r.data, h.shared
   FROM hits h JOIN empi_record r USING (record_id)
  ORDER BY h.shared DESC, r.record_id`;

/**
 * Chunk candidate search, step 1 ($1 the chunk's distinct key hashes, $2 each one's evidence, $3 least evidence): the
 * records under each key, at most PER_KEY_FANOUT per key (an index range scan of `empi_key`'s primary key, lowest
 * record ids first), as one row per record with the 1-based positions in $1 of the keys it is under. Summing each record's evidence per incoming record,
 * dropping what is below the least evidence and ranking (most evidence, then record id) is done by the
 * caller, in memory: the same ranking the in-memory store and CANDIDATE_SEARCH_SQL give.
 */
export const CHUNK_KEY_HITS_SQL = `WITH kb AS (
   SELECT k.i, k.evidence, b.record_id
     FROM unnest($1::bigint[], $2::int[]) WITH ORDINALITY AS k(key, evidence, i)
     CROSS JOIN LATERAL (SELECT record_id FROM empi_key WHERE empi_key.key = k.key ORDER BY record_id LIMIT ${PER_KEY_FANOUT}) AS b)
 -- A record whose evidence over all the chunk's keys is below the least evidence cannot reach it for any one record: not sent.
 SELECT record_id, array_agg(i::int) AS keys FROM kb GROUP BY record_id HAVING sum(evidence) >= $3`;

/**
 * Chunk candidate search, step 2 ($1 record ids, $2 the version the caller already holds of each, or null):
 * each record's person and version (`updated_at` in microseconds), and its payload only when the caller's
 * version differs — records read in an earlier chunk and unchanged since are not sent (or parsed and
 * normalised) again.
 */
export const CANDIDATE_RECORDS_SQL = `SELECT e.record_id, e.person_id, v.version,
        CASE WHEN v.version IS DISTINCT FROM v.known THEN e.data END AS data
   FROM unnest($1::text[], $2::text[]) AS k(record_id, known)
   CROSS JOIN LATERAL (SELECT record_id, person_id, data, updated_at FROM empi_record WHERE empi_record.record_id = k.record_id) AS e
   CROSS JOIN LATERAL (SELECT (extract(epoch FROM e.updated_at) * 1000000)::bigint::text AS version, k.known) AS v`;

/**
 * Candidate records read in earlier chunks, by record id with the version (`updated_at`) they were read at:
 * the same `PersonRecord` object comes back while the stored version is unchanged, so the engine's
 * normalisation (kept per object) is reused and the payload is not sent again. Bounded (least recently used
 * dropped first). The store asks the database for the current version of every candidate on every search,
 * so a record changed by any replica is read again. Owned by whoever outlives the transactions (the
 * service's consumer, the bench), handed to each `SqlCandidateStore`.
 */
export class CandidateRecordCache {
  private readonly entries = new Map<string, { version: string; record: PersonRecord }>();
  hits = 0;
  misses = 0;

  constructor(readonly capacity = 20_000) {}

  versionOf(recordId: string): string | undefined {
    return this.entries.get(recordId)?.version;
  }

  get(recordId: string, version: string): PersonRecord | undefined {
    const entry = this.entries.get(recordId);
    if (!entry || entry.version !== version) return undefined;
    this.entries.delete(recordId);
    this.entries.set(recordId, entry);
    return entry.record;
  }

  set(recordId: string, version: string, record: PersonRecord): void {
    this.entries.delete(recordId);
    this.entries.set(recordId, { version, record });
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
  }

  get size(): number {
    return this.entries.size;
  }
}

/**
 * Saves records with their person and key hashes in one statement ($1: a JSON array of
 * `{ r: recordId, p: personId, s: sourceSystem, d: record, k: key hashes }` — one text parameter, no
 * per-element array escaping). A record already stored has its previous key hashes on its row
 * (`empi_record.keys`): only those it no longer has are deleted, through `empi_key`'s one index; a new
 * record deletes nothing.
 */
export const SAVE_RECORDS_SQL = `WITH input AS (SELECT r, p, s, d, k FROM jsonb_to_recordset($1::jsonb) AS t(r text, p text, s text, d jsonb, k bigint[])),
 old AS (SELECT e.record_id, e.keys FROM empi_record e WHERE e.record_id IN (SELECT r FROM input) AND e.keys IS NOT NULL),
 rec AS (
   INSERT INTO empi_record (record_id, person_id, source_system, data, keys, updated_at)
   SELECT r, p, s, d, k, clock_timestamp() FROM input
   ON CONFLICT (record_id) DO UPDATE
     SET person_id = EXCLUDED.person_id, source_system = EXCLUDED.source_system, data = EXCLUDED.data, keys = EXCLUDED.keys, updated_at = EXCLUDED.updated_at
   RETURNING record_id),
 stale AS (
   DELETE FROM empi_key b USING (
       SELECT o.record_id, ok.key FROM old o CROSS JOIN LATERAL unnest(o.keys) AS ok(key)
       EXCEPT SELECT i.r, ik.key FROM input i CROSS JOIN LATERAL unnest(i.k) AS ik(key)) AS s
    WHERE b.key = s.key AND b.record_id = s.record_id)
 -- Only keys the record did not have (a plain insert: no speculative conflict check per key). Keys are distinct per record ($1).
 INSERT INTO empi_key (key, record_id)
 SELECT ik.key, i.r FROM input i CROSS JOIN LATERAL unnest(i.k) AS ik(key)
  WHERE NOT EXISTS (SELECT 1 FROM old o WHERE o.record_id = i.r AND ik.key = ANY(o.keys))`;

/**
 * SAVE_RECORDS_SQL as three statements of one kind each, for a transaction that defers them to its
 * closing statement (`UnitOfWork.deferWrite` takes single INSERT/UPDATE/DELETE statements, not data-modifying
 * CTEs of their own). There they run on one snapshot, as the CTEs above do: the stale-key delete and the
 * new-key insert see each record's previous keys (`empi_record.keys` before the upsert), and touch
 * disjoint rows. `records` takes SAVE_RECORDS_SQL's parameter; the two key statements take
 * `{ r: recordId, k: key hashes }` only (`saveRecordsDeferred`).
 */
export const SAVE_RECORDS_DEFERRED_SQL = {
  records: `INSERT INTO empi_record (record_id, person_id, source_system, data, keys, updated_at)
   SELECT r, p, s, d, k, clock_timestamp() FROM jsonb_to_recordset($1::jsonb) AS t(r text, p text, s text, d jsonb, k bigint[])
   ON CONFLICT (record_id) DO UPDATE
     SET person_id = EXCLUDED.person_id, source_system = EXCLUDED.source_system, data = EXCLUDED.data, keys = EXCLUDED.keys, updated_at = EXCLUDED.updated_at`,
  // Each record's previous keys by a per-record primary-key lookup (a scalar subquery): joined, the
  // planner cannot size the JSON input and may hash-join the whole of empi_record instead.
  staleKeys: `DELETE FROM empi_key b USING (
     SELECT i.r AS record_id, ok.key FROM jsonb_to_recordset($1::jsonb) AS i(r text, k bigint[])
      CROSS JOIN LATERAL unnest((SELECT e.keys FROM empi_record e WHERE e.record_id = i.r)) AS ok(key)
      WHERE ok.key <> ALL (i.k)) AS s
   WHERE b.key = s.key AND b.record_id = s.record_id`,
  newKeys: `INSERT INTO empi_key (key, record_id)
   SELECT ik.key, i.r FROM jsonb_to_recordset($1::jsonb) AS i(r text, k bigint[])
    CROSS JOIN LATERAL (SELECT coalesce((SELECT e.keys FROM empi_record e WHERE e.record_id = i.r), '{}') AS old) AS o
    CROSS JOIN LATERAL unnest(i.k) AS ik(key)
    WHERE ik.key <> ALL (o.old)`,
} as const;

/** SAVE_RECORDS_DEFERRED_SQL's statements with their parameters. */
export function saveRecordsDeferred(entries: Array<{ record: PersonRecord; personId: string; blockingKeys: string[] }>): Array<{ sql: string; params: unknown[] }> {
  const keys = JSON.stringify(entries.map((e) => ({ r: e.record.recordId, k: [...new Set(blockingKeyHashes(e.blockingKeys))] })));
  return [
    { sql: SAVE_RECORDS_DEFERRED_SQL.records, params: saveRecordsParams(entries) },
    { sql: SAVE_RECORDS_DEFERRED_SQL.staleKeys, params: [keys] },
    { sql: SAVE_RECORDS_DEFERRED_SQL.newKeys, params: [keys] },
  ];
}

/** The parameter of SAVE_RECORDS_SQL. */
export function saveRecordsParams(entries: Array<{ record: PersonRecord; personId: string; blockingKeys: string[] }>): unknown[] {
  return [JSON.stringify(entries.map((e) => ({
    r: e.record.recordId, p: e.personId, s: e.record.sourceSystem ?? null, d: e.record, k: [...new Set(blockingKeyHashes(e.blockingKeys))],
  })))];
}

/** What one page of a key rebuild did (`SqlCandidateStore.rekeyPage`). */
export interface RekeyPageResult {
  /** The page's last record id (the next page starts after it); null when there was none. */
  last: string | null;
  /** Records read and locked. */
  records: number;
  /** Records whose key set changed. */
  rekeyed: number;
  keysAdded: number;
  keysRemoved: number;
  /** Records of the page another transaction held (not rekeyed). */
  skippedIds: string[];
}

export class SqlCandidateStore implements CandidateStore {
  constructor(private readonly sql: SqlExecutor, private readonly cache?: CandidateRecordCache) {}

  async lockKeys(keys: string[]): Promise<void> {
    // The lock key of a blocking key is its hash (the value stored in empi_key), computed once per key.
    const hashes = [...new Set(keys.map(blockingKeyHash))];
    if (hashes.length === 0) return;
    await this.run('lockKeys', () =>
      // The ordered sub-select fixes the acquisition order (one global order: ascending bigint): the outer scan calls the lock function row by row in that order.
      this.sql.query('SELECT count(pg_advisory_xact_lock(k)) AS n FROM (SELECT unnest($1::bigint[]) AS k ORDER BY 1) AS ordered', [integerArrayLiteral(hashes)]),
    );
  }

  async findCandidates(blockingKeys: string[], limit: number, minEvidence = 1): Promise<StoredRecord[]> {
    if (blockingKeys.length === 0) return [];
    const rows = await this.run('findCandidates', () => this.sql.query<RecordRow>(CANDIDATE_SEARCH_SQL, candidateSearchParams(blockingKeys, limit, minEvidence)));
    return rows.map((r) => ({ recordId: r.record_id, personId: r.person_id, record: r.data, sharedKeys: Number(r.shared) }));
  }

  /**
   * Candidates of every record of a chunk: CHUNK_KEY_HITS_SQL for the chunk's distinct keys, evidence summed
   * and ranked here, then CANDIDATE_RECORDS_SQL for the chosen records (payloads only for records not held
   * in the cache at their current version). Same candidates, evidence and order as `findCandidates` per record.
   */
  async findCandidatesBatch(keySets: string[][], limit: number, minEvidence = 1): Promise<StoredRecord[][]> {
    const position = new Map<string, number>();
    const hashes: string[] = [];
    const hashEvidence: number[] = [];
    // Per record: (position of each of its distinct keys, that key's evidence).
    const wanted = keySets.map((set) => {
      const mine = new Map<number, number>();
      const setHashes = blockingKeyHashes(set);
      for (let j = 0; j < set.length; j++) {
        const k = set[j];
        const h = setHashes[j];
        let i = position.get(h);
        if (i === undefined) {
          position.set(h, (i = hashes.length));
          hashes.push(h);
          hashEvidence.push(keyEvidence(k));
        }
        if (!mine.has(i)) mine.set(i, hashEvidence[i]);
      }
      return mine;
    });
    const out: StoredRecord[][] = keySets.map(() => []);
    if (!hashes.length) return out;
    const hitRows = await this.run('findCandidatesBatch', () =>
      this.sql.query<{ record_id: string; keys: number[] }>(CHUNK_KEY_HITS_SQL, [integerArrayLiteral(hashes), integerArrayLiteral(hashEvidence), minEvidence]),
    );
    const underKey: string[][] = hashes.map(() => []);
    for (const r of hitRows) for (const i of r.keys) underKey[i - 1].push(r.record_id);
    const ranked = wanted.map((mine) => {
      const shared = new Map<string, number>();
      for (const [i, evidence] of mine) for (const id of underKey[i]) shared.set(id, (shared.get(id) ?? 0) + evidence);
      const list: Array<[string, number]> = [];
      for (const entry of shared) if (entry[1] >= minEvidence) list.push(entry);
      list.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      return list.length > limit ? list.slice(0, limit) : list;
    });
    const ids = [...new Set(ranked.flatMap((list) => list.map(([id]) => id)))];
    if (!ids.length) return out;
    const cache = this.cache;
    const read = (idList: string[], known: Array<string | null>) =>
      this.run('findCandidatesBatch', () => this.sql.query<RecordRow & { version: string }>(CANDIDATE_RECORDS_SQL, [idList, known]));
    const rows = await read(ids, ids.map((id) => cache?.versionOf(id) ?? null));
    // One StoredRecord object per record, shared by every ordinal it is a candidate of (normalised once).
    const base = new Map<string, StoredRecord>();
    const missing: string[] = [];
    // Records held at their current version first (before new entries could push them out of the cache), then the new ones.
    for (const r of rows) {
      if (r.data) continue;
      const record = cache?.get(r.record_id, r.version);
      if (record) {
        cache!.hits++;
        base.set(r.record_id, { recordId: r.record_id, personId: r.person_id, record });
      } else missing.push(r.record_id);
    }
    const fresh = missing.length ? [...rows.filter((r) => r.data), ...(await read(missing, missing.map(() => null)))] : rows.filter((r) => r.data);
    for (const r of fresh) {
      if (!r.data) continue;
      if (cache) {
        cache.set(r.record_id, r.version, r.data);
        cache.misses++;
      }
      base.set(r.record_id, { recordId: r.record_id, personId: r.person_id, record: r.data });
    }
    ranked.forEach((list, i) => {
      for (const [id, shared] of list) {
        const b = base.get(id);
        // Written out: a key added after a leading spread is slow in V8 (~2 µs), and this runs per candidate.
        if (b) out[i].push({ recordId: b.recordId, personId: b.personId, record: b.record, sharedKeys: shared });
      }
    });
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

  /**
   * Upserts records, drops their stale keys and adds the new ones: one statement for the whole chunk
   * (SAVE_RECORDS_SQL) — or, with `defer`, hands the three statements of SAVE_RECORDS_DEFERRED_SQL to it
   * (the transaction's closing statement writes them: for a caller that reads none of these rows back).
   */
  async saveMany(entries: Array<{ record: PersonRecord; personId: string; blockingKeys: string[] }>, options: { defer?: (sql: string, params: unknown[]) => void } = {}): Promise<void> {
    if (!entries.length) return;
    if (options.defer) {
      for (const { sql, params } of saveRecordsDeferred(entries)) options.defer(sql, params);
      return;
    }
    await this.run('saveMany', () => this.sql.query(SAVE_RECORDS_SQL, saveRecordsParams(entries)));
  }

  /**
   * Re-derives the blocking keys of one page of stored records from their stored demographics (`keysOf`, the
   * key scheme in force) and replaces the keys of those whose set changed — a key scheme that gained a kind
   * (`nmd:`, `fy:` on the given name) otherwise reaches only records saved after it. The page is the next
   * `limit` records after `after` by id, or the given `ids`. Rows another transaction holds are skipped, not
   * waited for (`FOR UPDATE SKIP LOCKED`: no lock cycle with a chunk that holds records and waits for one of
   * these): a chunk saving a record writes it with fresh keys anyway, and a merge moving one is retried by the
   * caller with `ids`. Keys are replaced the way a save replaces them (stale ones deleted through the one
   * index, only new ones inserted); the record's data and version are untouched, so cached copies stay valid.
   * `dryRun` locks and writes nothing: it only counts what would change.
   */
  async rekeyPage(
    page: { after: string; limit: number } | { ids: string[] }, keysOf: (record: PersonRecord) => string[], options: { dryRun?: boolean } = {},
  ): Promise<RekeyPageResult> {
    const ids = 'ids' in page
      ? [...page.ids].sort()
      : (await this.run('rekeyPage', () => this.sql.query<{ record_id: string }>(
        'SELECT record_id FROM empi_record WHERE record_id > $1 ORDER BY record_id LIMIT $2', [page.after, page.limit]))).map((r) => r.record_id);
    if (!ids.length) return { last: null, records: 0, rekeyed: 0, keysAdded: 0, keysRemoved: 0, skippedIds: [] };
    const rows = await this.run('rekeyPage', () => this.sql.query<{ record_id: string; data: PersonRecord; keys: Array<string | number> | null }>(
      `SELECT record_id, data, keys FROM empi_record WHERE record_id = ANY($1::text[]) ORDER BY record_id${options.dryRun ? '' : ' FOR UPDATE SKIP LOCKED'}`, [ids]));
    const locked = new Set(rows.map((r) => r.record_id));
    const changed: Array<{ r: string; k: string[] }> = [];
    let keysAdded = 0;
    let keysRemoved = 0;
    for (const row of rows) {
      const fresh = [...new Set(blockingKeyHashes(keysOf(row.data)))];
      const stored = new Set((row.keys ?? []).map(String));
      const added = fresh.filter((k) => !stored.has(k)).length;
      const removed = stored.size - (fresh.length - added);
      if (added === 0 && removed === 0) continue;
      keysAdded += added;
      keysRemoved += removed;
      changed.push({ r: row.record_id, k: fresh });
    }
    if (changed.length && !options.dryRun) {
      const param = [JSON.stringify(changed)];
      // Both key statements read each record's previous keys from empi_record.keys, so that column is replaced last.
      await this.run('rekeyPage', async () => {
        await this.sql.query(SAVE_RECORDS_DEFERRED_SQL.staleKeys, param);
        await this.sql.query(SAVE_RECORDS_DEFERRED_SQL.newKeys, param);
        await this.sql.query('UPDATE empi_record e SET keys = i.k FROM jsonb_to_recordset($1::jsonb) AS i(r text, k bigint[]) WHERE e.record_id = i.r', param);
      });
    }
    return { last: ids[ids.length - 1], records: rows.length, rekeyed: changed.length, keysAdded, keysRemoved, skippedIds: ids.filter((id) => !locked.has(id)) };
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
    await this.run('save', () => this.sql.query(SAVE_RECORDS_SQL, saveRecordsParams([{ record, personId, blockingKeys }])));
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

/**
 * A PostgreSQL array literal of integers (`{1,-2,3}`) for an `int[]` / `bigint[]` parameter: the values are
 * decimal integers (key hashes, evidence), so no element needs quoting; the driver would otherwise escape
 * every element of a JavaScript array one by one (a few hundred per chunk).
 */
export function integerArrayLiteral(values: ReadonlyArray<string | number>): string {
  return `{${values.join(',')}}`;
}

/** Parameters of CANDIDATE_SEARCH_SQL: distinct key hashes, limit, each key's evidence, least evidence. */
export function candidateSearchParams(blockingKeys: string[], limit: number, minEvidence: number): unknown[] {
  const byHash = new Map<string, number>();
  for (const k of blockingKeys) if (!byHash.has(blockingKeyHash(k))) byHash.set(blockingKeyHash(k), keyEvidence(k));
  return [[...byHash.keys()], limit, [...byHash.values()], minEvidence];
}

const HASH_MEMO_CAPACITY = 100_000;
// A pure function's memo (like the normaliser's): no state that changes any result.
const hashMemo = new Map<string, string>();

/**
 * The 64-bit hash of a blocking key as `empi_key` stores it (decimal text, for a bigint parameter): `advisoryKey`.
 * Remembered for the keys seen last (a chunk's keys are hashed for its locks and again for its search and save);
 * bounded, dropped when full.
 */
export function blockingKeyHash(key: string): string {
  let h = hashMemo.get(key);
  if (h === undefined) {
    // The same value as advisoryKey (a unit test holds them equal over thousands of keys), at a fraction of the
    // cost: a hex digest and Number arithmetic instead of a Buffer digest, readBigInt64BE and a BigInt's decimal.
    h = signedDecimal64(hash('sha256', key, 'hex'));
    if (hashMemo.size >= HASH_MEMO_CAPACITY) hashMemo.clear();
    hashMemo.set(key, h);
  }
  return h;
}

/**
 * The first 8 bytes of a hex digest read as a signed (two's complement) 64-bit integer, in decimal: what
 * `readBigInt64BE(0)` and `String()` give, computed in exact Number arithmetic (every intermediate < 2^53).
 */
function signedDecimal64(hex: string): string {
  let hi = parseInt(hex.slice(0, 8), 16);
  let lo = parseInt(hex.slice(8, 16), 16);
  const negative = hi >= 0x80000000;
  if (negative) {
    // Magnitude = 2^64 - value: invert both halves and add one.
    hi = 0xffffffff - hi;
    lo = 0xffffffff - lo + 1;
    if (lo === 0x100000000) {
      lo = 0;
      hi += 1;
    }
  }
  // hi * 2^32 + lo = (hi * 4294) * 10^6 + (hi * 967296 + lo), as 2^32 = 4294 * 10^6 + 967296.
  let high = hi * 4294;
  let low = hi * 967296 + lo;
  high += Math.floor(low / 1e6);
  low %= 1e6;
  const digits = high === 0 ? String(low) : `${high}${String(low).padStart(6, '0')}`;
  return negative ? `-${digits}` : digits;
}

/**
 * Key hashes of an engine's key array: the engine hands one frozen array per record to the lock, the search
 * and the save, so its hashes are looked up once per array (a `WeakMap` by array; a pure function's memo).
 * Other arrays are hashed key by key (each remembered by `blockingKeyHash`).
 */
const keyArrayHashes = new WeakMap<readonly string[], string[]>();
export function blockingKeyHashes(keys: readonly string[]): string[] {
  if (!Object.isFrozen(keys)) return keys.map(blockingKeyHash);
  let hashes = keyArrayHashes.get(keys);
  if (!hashes) keyArrayHashes.set(keys, (hashes = keys.map(blockingKeyHash)));
  return hashes;
}

/** Signed 64-bit advisory-lock key of a string (first 8 bytes of its SHA-256). */
export function advisoryKey(value: string): bigint {
  return hash('sha256', value, 'buffer').readBigInt64BE(0);
}
