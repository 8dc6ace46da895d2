import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataSource } from 'typeorm';
import { inTransaction } from '@clinmesh/event-runtime';
import { TestDatabase, createTestDatabase, testEnvironment, uniqueName } from '@clinmesh/testing';
import { blockingKeyHash, generateUsRegistrations, type PersonRecord } from '@clinmesh/empi';
import { PersonIndexRepository } from '../adapters/persistence/person-index.repository';
import { IDENTITY_MIGRATIONS } from '../adapters/persistence/identity.migrations';
import { BlockingKeyRebuild } from './blocking-key.rebuild';
import { MasterPatientIndex } from './master-patient-index';
import type { IndexTransaction } from './match-parameters.commands';

/**
 * The key rebuild against real PostgreSQL. An index built through the chunk path is taken back to an
 * older key scheme (the `nmd:` and `fy:` kinds removed, as records indexed before those kinds carry), so
 * a search by those keys finds nothing; the rebuild restores exactly the keys the scheme in force derives
 * for each record (read back from `empi_key` and `empi_record.keys`), changes no person, link or record
 * version, skips a record another transaction holds and takes it on the next run, and a run with
 * nothing to change changes nothing.
 */
describe('blocking-key rebuild on PostgreSQL', { timeout: 300_000 }, () => {
  const env = testEnvironment();
  let db: DataSource;
  let testDb: TestDatabase | undefined;
  const index = new MasterPatientIndex();
  const tx: IndexTransaction = (work) => inTransaction(db, (uow) => work(new PersonIndexRepository(uow)));
  const records = generateUsRegistrations({ seed: 211, persons: 250 }).map((g) => g.record);
  const isNewKind = (key: string) => key.startsWith('nmd:') || key.startsWith('fy:');

  /** Per record, its key hashes as stored: in empi_key and on the record row (sorted, to compare as sets). */
  const storedKeys = async () => {
    const fromIndex = new Map<string, string[]>();
    for (const r of await db.query(`SELECT record_id, array_agg(key::text ORDER BY key::text) AS k FROM empi_key GROUP BY record_id`)) fromIndex.set(r.record_id, r.k);
    const onRow = new Map<string, string[]>();
    for (const r of await db.query(`SELECT record_id, ARRAY(SELECT unnest(keys)::text ORDER BY 1) AS k FROM empi_record`)) onRow.set(r.record_id, r.k);
    return { fromIndex, onRow };
  };
  const expectedKeys = (keep: (key: string) => boolean) =>
    new Map(records.map((r) => [r.recordId, [...new Set(index.blockingKeysOf(r).filter(keep).map(blockingKeyHash))].sort()]));
  const persons = async () => db.query(`SELECT record_id, person_id, updated_at::text AS v FROM empi_record ORDER BY record_id`);
  const links = async () => db.query(`SELECT * FROM ir_link ORDER BY 1`);

  before(async () => {
    testDb = await createTestDatabase(env, uniqueName('ir_rekey'));
    db = new DataSource({ type: 'postgres', url: testDb.url, migrationsTableName: 'cm_migrations', extra: { max: 6 }, migrations: IDENTITY_MIGRATIONS });
    await db.initialize();
    await db.runMigrations({ transaction: 'all' });
    for (let i = 0; i < records.length; i += 100) {
      const chunk = records.slice(i, i + 100);
      await tx(async (repo) => {
        await repo.candidates.lockKeys([...new Set(chunk.flatMap((r) => index.blockingKeysOf(r)))]);
        return index.assignChunk(repo, chunk.map((record) => ({ record, reviewItemId: `rv-${record.recordId}` })));
      });
    }
  });
  after(async () => {
    await db?.destroy();
    await testDb?.drop();
  });

  it('restores the keys an older scheme lacked, exactly, without touching persons, links or record versions; a second run changes nothing', async () => {
    // The index as the release before `nmd:` / `fy:` left it: rekeyed with those kinds left out.
    const oldScheme = (record: PersonRecord) => index.blockingKeysOf(record).filter((k) => !isNewKind(k));
    for (let after: string | null = ''; after !== null;) {
      const cursor: string = after;
      after = (await tx((repo) => repo.candidates.rekeyPage({ after: cursor, limit: 1000 }, oldScheme))).last;
    }
    const older = await storedKeys();
    assert.deepEqual(older.fromIndex, expectedKeys((k) => !isNewKind(k)));
    assert.deepEqual(older.onRow, older.fromIndex);
    const probe = records[0];
    const nmd = index.blockingKeysOf(probe).find((k) => k.startsWith('nmd:'));
    assert.ok(nmd, 'the probe record has an nmd: key');
    assert.deepEqual(await tx((repo) => repo.candidates.findCandidates([nmd], 10)), [], 'the older scheme has no nmd: keys');

    const firstHundred: string[] = (await db.query('SELECT record_id FROM empi_record ORDER BY record_id LIMIT 100')).map((r: { record_id: string }) => r.record_id);
    const staleAmongThem = firstHundred.filter((id) => expectedKeys(isNewKind).get(id)!.length > 0).length;
    assert.ok(staleAmongThem > 50);
    assert.deepEqual(await new BlockingKeyRebuild(index).check(tx, 100), { sampled: 100, stale: staleAmongThem }, 'the start-up check sees the older scheme');
    assert.deepEqual(await storedKeys(), older, 'and changes nothing');
    const personsBefore = await persons();
    const linksBefore = await links();
    assert.ok(linksBefore.length >= records.length, 'every record has its link');
    const expectedNew = [...expectedKeys(isNewKind).values()].reduce((n, k) => n + k.length, 0);
    const result = await new BlockingKeyRebuild(index, 64).run(tx);
    assert.deepEqual(result, {
      records: records.length, rekeyed: [...expectedKeys(isNewKind).values()].filter((k) => k.length > 0).length,
      keysAdded: expectedNew, keysRemoved: 0, skipped: 0, pages: Math.ceil(records.length / 64),
    });
    const rebuilt = await storedKeys();
    assert.deepEqual(rebuilt.fromIndex, expectedKeys(() => true));
    assert.deepEqual(rebuilt.onRow, rebuilt.fromIndex);
    assert.ok((await tx((repo) => repo.candidates.findCandidates([nmd], 10))).some((c) => c.recordId === probe.recordId));
    assert.deepEqual(await persons(), personsBefore, 'no record moved and no record version changed');
    assert.deepEqual(await links(), linksBefore);

    assert.deepEqual(await new BlockingKeyRebuild(index).check(tx, 100), { sampled: 100, stale: 0 });
    const again = await new BlockingKeyRebuild(index, 64).run(tx);
    assert.deepEqual([again.records, again.rekeyed, again.keysAdded, again.keysRemoved, again.skipped], [records.length, 0, 0, 0, 0]);
  });

  it('skips a record another transaction holds rather than waiting for it, and keys it on the next run', async () => {
    const held = records[7];
    // Take the held record back to no keys at all, then hold its row as a chunk saving it would.
    await tx((repo) => repo.candidates.rekeyPage({ ids: [held.recordId] }, () => []));
    const holder = db.createQueryRunner();
    await holder.connect();
    await holder.startTransaction();
    try {
      await holder.query('SELECT 1 FROM empi_record WHERE record_id = $1 FOR UPDATE', [held.recordId]);
      const result = await new BlockingKeyRebuild(index, 100).run(tx);
      assert.deepEqual([result.rekeyed, result.skipped, result.records], [0, 1, records.length - 1]);
    } finally {
      await holder.rollbackTransaction();
      await holder.release();
    }
    const next = await new BlockingKeyRebuild(index, 100).run(tx);
    assert.deepEqual([next.rekeyed, next.skipped, next.keysRemoved, next.keysAdded], [1, 0, 0, expectedKeys(() => true).get(held.recordId)!.length]);
    assert.deepEqual((await storedKeys()).fromIndex, expectedKeys(() => true));
  });
});
