import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Client, Pool } from 'pg';
import { InMemoryCandidateStore } from './in-memory-candidate.store';
import { MatchEngine } from '../matching/match.engine';
import type { PersonRecord } from '../record/person-record.model';
import { PgCandidateStore } from './pg-candidate.store';
import { CandidateRecordCache, SqlCandidateStore } from './sql-candidate.store';

// Needs a superuser URL: the test creates its own uniquely named database and
// drops it afterwards. Without the variable it fails on purpose — a skipped
// integration test reads as green in CI and hides an untested store.
const ADMIN_URL = process.env.CLINMESH_TEST_PG_URL;
const MISSING_URL =
  'CLINMESH_TEST_PG_URL is not set: the EMPI PostgreSQL integration test needs a superuser URL (e.g. postgresql://postgres@127.0.0.1:5432/postgres)';

it('CLINMESH_TEST_PG_URL is provided', () => {
  assert.ok(ADMIN_URL, MISSING_URL);
});

describe('PgCandidateStore (PostgreSQL)', () => {
  const dbName = `empi_test_${Date.now()}_${randomBytes(4).toString('hex')}`;
  let admin: Client | undefined;
  let pool: Pool | undefined;
  let store: PgCandidateStore;

  before(async () => {
    if (!ADMIN_URL) {
      throw new Error(MISSING_URL);
    }
    admin = new Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    const url = new URL(ADMIN_URL);
    url.pathname = `/${dbName}`;
    pool = new Pool({ connectionString: url.toString(), max: 3 });
    store = new PgCandidateStore(pool);
    await store.migrate();
    await store.migrate(); // idempotent
  });

  after(async () => {
    await pool?.end();
    if (admin) {
      await admin.query(`DROP DATABASE IF EXISTS ${dbName}`);
      await admin.end();
    }
  });

  const rec = (id: string, extra: Partial<PersonRecord> = {}): PersonRecord => ({ recordId: id, sourceSystem: 'adt', givenName: 'Ann', familyName: 'Lee', ...extra });

  it('saves records with keys and ranks candidates by shared keys', async () => {
    await store.save(rec('r1'), 'P1', ['a', 'b', 'c']);
    await store.save(rec('r2'), 'P2', ['a']);
    await store.save(rec('r3'), 'P3', ['z']);
    const found = await store.findCandidates(['a', 'b', 'c', 'a'], 10);
    assert.deepEqual(found.map((f) => [f.recordId, f.personId, f.sharedKeys]), [['r1', 'P1', 3], ['r2', 'P2', 1]]);
    assert.deepEqual(found[0].record, rec('r1'));
    assert.deepEqual((await store.findCandidates(['a'], 1)).map((f) => f.recordId), ['r1']);
    assert.deepEqual(await store.findCandidates([], 10), []);
  });

  it('counts identifying keys twice and drops candidates below the least evidence — PgCandidateStore, SqlCandidateStore (chunk search) and the in-memory store agree', async () => {
    const memory = new InMemoryCandidateStore();
    const sql = new SqlCandidateStore({ query: async (text, params) => (await pool!.query(text, params)).rows });
    const entries: Array<[string, string[]]> = [
      ['ev|dob-only', ['d:19700101']],
      ['ev|dob-and-name', ['d:19700101', 'fy:SM0|1970']],
      ['ev|ssn-only', ['id:ssn|123456789']],
      ['ev|phone-and-dob', ['ph:261234567', 'd:19700101']],
    ];
    for (const [id, keys] of entries) {
      await store.save(rec(id), 'PE', keys);
      await memory.save(rec(id), 'PE', keys);
    }
    const query = ['d:19700101', 'fy:SM0|1970', 'id:ssn|123456789', 'ph:261234567'];
    const expected = [['ev|phone-and-dob', 3], ['ev|dob-and-name', 2], ['ev|ssn-only', 2]];
    const shape = (found: Array<{ recordId: string; sharedKeys?: number }>) => found.map((f) => [f.recordId, f.sharedKeys]);
    assert.deepEqual(shape(await store.findCandidates(query, 10, 2)), expected);
    assert.deepEqual(shape(await memory.findCandidates(query, 10, 2)), expected);
    const [batch, second] = await sql.findCandidatesBatch([query, ['d:19700101']], 10, 2);
    assert.deepEqual(shape(batch), expected);
    assert.deepEqual(second, [], 'one shared birth date alone is not enough evidence');
    // Least evidence 1 keeps every record sharing any key (the old contract).
    assert.equal((await store.findCandidates(query, 10, 1)).filter((f) => f.recordId.startsWith('ev|')).length, 4);
    assert.equal((await sql.findCandidatesBatch([['d:19700101']], 10, 1))[0].length, 3);
  });

  it('chunk search with a record cache: an unchanged candidate comes back as the same object without its payload; a re-saved or moved one is read again', async () => {
    const cache = new CandidateRecordCache(10);
    const sql = new SqlCandidateStore({ query: async (text, params) => (await pool!.query(text, params)).rows }, cache);
    await sql.saveMany([{ record: rec('c|1', { givenName: 'Cara' }), personId: 'PC1', blockingKeys: ['c:a', 'c:b'] }, { record: rec('c|2'), personId: 'PC2', blockingKeys: ['c:a'] }]);
    const [first] = await sql.findCandidatesBatch([['c:a', 'c:b']], 10, 1);
    assert.deepEqual(first.map((f) => [f.recordId, f.sharedKeys]), [['c|1', 2], ['c|2', 1]]);
    assert.deepEqual([cache.hits, cache.misses], [0, 2]);
    const [second] = await sql.findCandidatesBatch([['c:a', 'c:b']], 10, 1);
    assert.equal(second[0].record, first[0].record, 'the cached object, not a new copy');
    assert.deepEqual([cache.hits, cache.misses], [2, 2]);
    // Another writer (no cache) changes c|1's data and keys and moves c|2: both are seen at once.
    const other = new SqlCandidateStore({ query: async (text, params) => (await pool!.query(text, params)).rows });
    await other.save(rec('c|1', { givenName: 'Carla' }), 'PC1', ['c:b']);
    await other.assignPerson(['c|2'], 'PC9');
    const [third] = await sql.findCandidatesBatch([['c:a', 'c:b']], 10, 1);
    assert.deepEqual(third.map((f) => [f.recordId, f.personId, f.sharedKeys, f.record.givenName]), [['c|1', 'PC1', 1, 'Carla'], ['c|2', 'PC9', 1, 'Ann']]);
    assert.deepEqual([cache.hits, cache.misses], [2, 4], 'both read again: their stored versions changed');
    // The stale key c:a of c|1 is gone from the index (deleted through the keys kept on its row).
    const [{ n }] = (await pool!.query(`SELECT count(*)::int AS n FROM empi_key WHERE record_id = 'c|1'`)).rows;
    assert.equal(n, 1);
  });

  it('re-saving a record replaces its person, data and keys', async () => {
    await store.save(rec('r2', { givenName: 'Anne' }), 'P9', ['y']);
    assert.deepEqual(await store.findCandidates(['a'], 10).then((r) => r.map((x) => x.recordId)), ['r1']);
    const [again] = await store.findCandidates(['y'], 10);
    assert.equal(again.personId, 'P9');
    assert.equal(again.record.givenName, 'Anne');
  });

  it('assignPerson moves records (merge persistence) and recordsOfPerson lists them', async () => {
    await store.assignPerson(['r2', 'r3'], 'P1');
    assert.deepEqual((await store.recordsOfPerson('P1')).map((r) => r.recordId), ['r1', 'r2', 'r3']);
  });

  it('drives the MatchEngine with the same decisions as the in-memory store', async () => {
    const records: PersonRecord[] = [
      { recordId: 'm|1', givenName: 'Kirra', familyName: 'Menzies', birthDate: '1994-09-15', address: { postcode: '2615', street: 'woralul street', streetNumber: '21' } },
      { recordId: 'm|2', givenName: 'Kira', familyName: 'Menzies', birthDate: '1994-09-15', address: { postcode: '2615', street: 'woralul st', streetNumber: '21' } },
      { recordId: 'm|3', givenName: 'Lachlan', familyName: 'Berry', birthDate: '1999-02-19', address: { postcode: '4814' } },
      { recordId: 'm|4', identifiers: [{ system: 'h', value: '1', type: 'MR' }], givenName: 'Lachlan', familyName: 'Berry', birthDate: '1999-02-19' },
      { recordId: 'm|5', identifiers: [{ system: 'h', value: '1', type: 'MR' }], givenName: 'X' },
    ];
    const run = async (s: InMemoryCandidateStore | PgCandidateStore) => {
      let n = 0;
      const engine = new MatchEngine({ store: s, personIdGenerator: () => `E${++n}` });
      const out: Array<[string, string, string]> = [];
      for (const r of records) {
        const m = await engine.match(r);
        out.push([m.decision, m.method, m.personId]);
      }
      return out;
    };
    const pgDecisions = await run(store);
    assert.deepEqual(pgDecisions, await run(new InMemoryCandidateStore()));
    assert.deepEqual(pgDecisions.map((d) => d[2]), ['E1', 'E1', 'E2', 'E2', 'E2']);
  });
});
