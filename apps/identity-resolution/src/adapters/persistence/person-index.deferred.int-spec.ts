import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataSource } from 'typeorm';
import { UnitOfWork, inTransaction } from '@clinmesh/event-runtime';
import { TestDatabase, createTestDatabase, testEnvironment, uniqueName } from '@clinmesh/testing';
import { generateUsRegistrations, type PersonRecord } from '@clinmesh/empi';
import { MasterPatientIndex } from '../../application/master-patient-index';
import { PersonIndexRepository } from './person-index.repository';
import { IDENTITY_MIGRATIONS } from './identity.migrations';

/**
 * A matched chunk's writes deferred to the transaction's closing statement (`saveChunk` with
 * `deferred`: records, keys, links and review items as data-modifying CTEs of one statement, on one
 * snapshot) leave exactly the index the immediate writes leave — new records, records seen again
 * with changed demographics (their stale keys go, new ones come), links and review items — in fewer
 * statements.
 */
describe('identity: deferred chunk writes leave the same index as immediate ones', { timeout: 300_000 }, () => {
  const env = testEnvironment();
  const databases: TestDatabase[] = [];
  const sources: DataSource[] = [];
  const open = async (label: string) => {
    const testDb = await createTestDatabase(env, uniqueName(label));
    databases.push(testDb);
    const db = new DataSource({ type: 'postgres', url: testDb.url, migrations: IDENTITY_MIGRATIONS, migrationsTableName: 'cm_migrations' });
    await db.initialize();
    await db.runMigrations({ transaction: 'all' });
    sources.push(db);
    return db;
  };
  let immediate: DataSource;
  let deferred: DataSource;
  before(async () => {
    [immediate, deferred] = [await open('ir_defer_now'), await open('ir_defer_late')];
  });
  after(async () => {
    for (const db of sources) await db.destroy();
    for (const t of databases) await t.drop();
  });

  /** The consumer's chunk path, counting statements: lock the chunk's keys, assign set-based. */
  const assignChunks = async (db: DataSource, records: PersonRecord[], deferWrites: boolean) => {
    const index = new MasterPatientIndex({}, 60_000, () => 0);
    let statements = 0;
    for (let i = 0; i < records.length; i += 50) {
      const chunk = records.slice(i, i + 50);
      await inTransaction(db, async (uow) => {
        const counting: UnitOfWork = {
          ...uow,
          query: (sql, params, options) => { statements++; return uow.query(sql, params, options); },
          execute: (sql, params, options) => { statements++; return uow.execute(sql, params, options); },
        };
        const repo = new PersonIndexRepository(counting);
        await repo.candidates.lockKeys([...new Set(chunk.flatMap((r) => index.blockingKeysOf(r)))]);
        await index.assignChunk(repo, chunk.map((record) => ({ record, reviewItemId: `rv-${record.recordId}` })), { deferWrites });
      });
    }
    return statements;
  };

  const contents = async (db: DataSource) => ({
    persons: await db.query('SELECT epid, status, merged_into FROM ir_person ORDER BY epid'),
    records: await db.query('SELECT record_id, person_id, source_system, data, keys FROM empi_record ORDER BY record_id'),
    keys: await db.query('SELECT key::text, record_id FROM empi_key ORDER BY record_id, key'),
    links: await db.query('SELECT record_id, epid, method, score, contributions, candidate_record_id, source_system, explanation FROM ir_link ORDER BY record_id'),
    reviews: await db.query('SELECT id, record_id, provisional_epid, candidate_epid, candidate_record_id, score, contributions, thresholds, explanation, candidate_epids FROM ir_review_item ORDER BY id'),
  });

  it('new records, then the same records again with moved addresses and new surnames: same rows, fewer statements', async () => {
    const records = generateUsRegistrations({ seed: 4711, persons: 300 }).map((g) => g.record);
    // Seen again: every third record moved (new street and postcode) and every seventh took a new surname — their keys change.
    const again = records.map((r, i) => (i % 3 === 0
      ? { ...r, address: { ...r.address, street: 'Juniper Court', streetNumber: String(100 + i), postcode: String(70000 + i) } }
      : i % 7 === 0 ? { ...r, familyName: `${r.familyName ?? ''}ington` } : r));
    const rounds = [records, again];
    const counted = { immediate: 0, deferred: 0 };
    for (const round of rounds) {
      counted.immediate += await assignChunks(immediate, round, false);
      counted.deferred += await assignChunks(deferred, round, true);
    }
    const [a, b] = [await contents(immediate), await contents(deferred)];
    assert.ok(a.records.length === records.length && a.keys.length > records.length && a.links.length === records.length, 'the reference index is filled');
    for (const table of ['persons', 'records', 'keys', 'links', 'reviews'] as const) assert.deepEqual(b[table], a[table], `${table} differ`);
    // Not separate statements: the record upsert of every chunk, and the links of every first-round chunk
    // (records seen again keep their links), and review items where there were any.
    const chunks = rounds.reduce((n, r) => n + Math.ceil(r.length / 50), 0);
    const firstRound = Math.ceil(records.length / 50);
    assert.ok(counted.immediate - counted.deferred >= chunks + firstRound, `${counted.immediate} statements immediately, ${counted.deferred} deferred, over ${chunks} chunks`);
  });
});
