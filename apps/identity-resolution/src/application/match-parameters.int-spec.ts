import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataSource } from 'typeorm';
import { inTransaction } from '@clinmesh/event-runtime';
import { TestDatabase, createTestDatabase, testEnvironment, uniqueName } from '@clinmesh/testing';
import { DEFAULT_MATCH_CONFIG, generateUsRegistrations, type PersonRecord } from '@clinmesh/empi';
import { PersonIndexRepository } from '../adapters/persistence/person-index.repository';
import { IDENTITY_MIGRATIONS } from '../adapters/persistence/identity.migrations';
import { ParameterEstimateRefusedError, ParameterSetRevisionMismatchError, ParameterSetStateError } from '../domain/identity.errors';
import type { PersonIndexPort } from '../domain/person-index.port';
import { IdentityChangeLog } from './identity-change.log';
import { MasterPatientIndex } from './master-patient-index';
import { MatchParameterCommands, type IndexTransaction } from './match-parameters.commands';

/**
 * EM parameter sets against real PostgreSQL: a generated US-style source is indexed, its m/u are
 * estimated (stored, not used), activated, and from then on its records are scored with that
 * version while another source keeps the default; too little data is refused with 422; the
 * activation states answer 409/412; a second replica picks the activation up on its reload.
 */
describe('EM parameter sets per source on PostgreSQL', { timeout: 300_000 }, () => {
  const env = testEnvironment();
  let db: DataSource;
  let testDb: TestDatabase | undefined;
  let clock = 1_000_000;
  const index = new MasterPatientIndex({}, 60_000, () => clock);
  const replica = new MasterPatientIndex({}, 60_000, () => clock);
  const commands = new MatchParameterCommands(index, { maxRecords: 20_000, randomPairs: 30_000 });
  const tx: IndexTransaction = (work) => inTransaction(db, (uow) => work(new PersonIndexRepository(uow)));
  const generated = generateUsRegistrations({ seed: 83, persons: 300 });
  const us = (r: PersonRecord, source = 'HOSP-US'): PersonRecord => ({ ...r, recordId: `${source}|${r.recordId}`, sourceSystem: source });

  before(async () => {
    testDb = await createTestDatabase(env, uniqueName('ir_params'));
    db = new DataSource({
      type: 'postgres', url: testDb.url, migrationsTableName: 'cm_migrations', extra: { max: 6 },
      migrations: IDENTITY_MIGRATIONS,
    });
    await db.initialize();
    await db.runMigrations({ transaction: 'all' });
  });
  after(async () => {
    await db?.destroy();
    await testDb?.drop();
  });

  /** The consumer's chunk path: lock the chunk's keys, assign set-based. */
  const assignChunk = (records: PersonRecord[], mpi = index) => tx(async (repo: PersonIndexPort) => {
    await repo.candidates.lockKeys([...new Set(records.flatMap((r) => mpi.blockingKeysOf(r)))]);
    return mpi.assignChunk(repo, records.map((record) => ({ record, reviewItemId: `rv-${record.recordId}` })));
  });
  const assignOne = (record: PersonRecord, mpi = index) => tx(async (repo) => {
    await mpi.assign(repo, record, new IdentityChangeLog(), { reviewItemId: `rv-${record.recordId}` });
    return (await repo.link(record.recordId))!;
  });

  it('indexes a generated US-style source and refuses an estimate from too few records with 422, storing nothing', async () => {
    const records = generated.map((g) => us(g.record));
    for (let i = 0; i < records.length; i += 100) await assignChunk(records.slice(i, i + 100));
    const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM empi_record WHERE source_system = 'HOSP-US'`);
    assert.equal(n, records.length);
    assert.ok(n > 400, `${n} records`);

    await assignChunk(generated.slice(0, 8).map((g) => us(g.record, 'TINY')));
    await assert.rejects(commands.estimate(tx, 'TINY', 'ops'), (e: unknown) => {
      assert.ok(e instanceof ParameterEstimateRefusedError, String(e));
      assert.equal(e.status, 422);
      assert.equal(e.code, 'IDENTITY.PARAMETERS.INSUFFICIENT_DATA');
      assert.match(e.message, /8 records; at least 200 are needed/);
      return true;
    });
    await assert.rejects(commands.estimate(tx, 'NO-SUCH-SOURCE', 'ops'), (e: unknown) => e instanceof ParameterEstimateRefusedError && e.status === 422);
    const [{ sets }] = await db.query('SELECT count(*)::int AS sets FROM empi_parameter_set');
    assert.equal(sets, 0);
  });

  let estimated: string;
  it('estimates the source by EM into a stored, immutable set that is not used before activation', async () => {
    const set = await commands.estimate(tx, 'HOSP-US', 'ops');
    estimated = set.version;
    assert.match(set.version, /^em-HOSP-US-/);
    assert.deepEqual([set.status, set.sourceSystem, set.revision, set.createdBy, set.converged], ['estimated', 'HOSP-US', 1, 'ops', true]);
    assert.equal(set.records, generated.length);
    assert.equal(set.randomPairs, 30_000);
    assert.ok(set.candidatePairs > 200 && set.iterations > 0 && set.lambda > 0);
    assert.equal(set.estimate.baseVersion, DEFAULT_MATCH_CONFIG.version);
    assert.ok(set.estimate.levels.some((l) => l.comparison === 'birthDate' && l.level === 'exact' && l.mFrom === 'em'));
    assert.notDeepEqual(set.comparisons.birthDate.exact, DEFAULT_MATCH_CONFIG.comparisons.birthDate.exact, 'm/u come from the data');
    // Immutable once written, except its activation fields.
    await assert.rejects(db.query(`UPDATE empi_parameter_set SET lambda = 0.5 WHERE version = $1`, [set.version]), /immutable/);
    // Estimated is not active: the source is still scored with the default.
    const link = await assignOne(us({ ...generated[0].record, recordId: 'pre-activation' }));
    assert.equal(link.explanation!.parametersVersion, DEFAULT_MATCH_CONFIG.version);
    assert.equal((await tx((repo) => replica.parametersFor(repo))).length, 0, 'the replica has loaded: nothing active');
  });

  it('activates the set: the source’s records are scored with it, another source keeps the default, in both paths', async () => {
    const { activated, retired } = await commands.activate(tx, estimated, 'ops', 1);
    assert.deepEqual([activated.status, activated.revision, activated.activatedBy, retired], ['active', 2, 'ops', null]);
    // A known person arriving again from the source, and a new one from another source.
    const again = us({ ...generated[3].record, recordId: 'again-1' });
    const linkAgain = await assignOne(again);
    assert.equal(linkAgain.explanation!.parametersVersion, estimated);
    const other = await assignOne(us({ ...generated[5].record, recordId: 'other-1' }, 'CLINIC-B'));
    assert.equal(other.explanation!.parametersVersion, DEFAULT_MATCH_CONFIG.version);

    // A chunk mixing the two sources: each record scored with its own source's set, in arrival order;
    // the HOSP-US record sees the CLINIC-B record that arrived before it in the same chunk.
    const newcomer: PersonRecord = {
      recordId: 'x', givenName: 'Zebulon', familyName: 'Quackenbush', birthDate: '1961-02-17', sex: 'M', phone: '5415550199',
      address: { streetNumber: '77', street: 'Larkspur Lane', city: 'Bend', state: 'OR', postcode: '97701' },
    };
    const chunk = [us({ ...newcomer, recordId: 'mix-b' }, 'CLINIC-B'), us({ ...newcomer, recordId: 'mix-us' }), us({ ...generated[9].record, recordId: 'mix-us-2' })];
    const out = await assignChunk(chunk);
    assert.equal(out[0].assignment.decision, 'new');
    assert.equal(out[1].assignment.decision, 'link', JSON.stringify(out[1].assignment));
    assert.equal(out[1].assignment.epid, out[0].assignment.epid);
    const links = await tx((repo) => repo.linksOf(chunk.map((c) => c.recordId)));
    assert.deepEqual(chunk.map((c) => links.get(c.recordId)!.explanation!.parametersVersion), [DEFAULT_MATCH_CONFIG.version, estimated, estimated]);
    const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM empi_record WHERE record_id = ANY($1::text[])`, [chunk.map((c) => c.recordId)]);
    assert.equal(n, 3, 'every record of the chunk saved once');
  });

  it('answers 409 for an active or retired set and 412 for a stale If-Match; a new activation retires the previous set', async () => {
    await assert.rejects(commands.activate(tx, estimated, 'ops'), (e: unknown) => e instanceof ParameterSetStateError && e.status === 409 && e.code === 'IDENTITY.PARAMETERS.ALREADY_ACTIVE');
    const second = await commands.estimate(tx, 'HOSP-US', 'ops2');
    assert.notEqual(second.version, estimated);
    await assert.rejects(commands.activate(tx, second.version, 'ops', 7), (e: unknown) => e instanceof ParameterSetRevisionMismatchError && e.status === 412);
    const { activated, retired } = await commands.activate(tx, second.version, 'ops2');
    assert.deepEqual([activated.status, retired], ['active', estimated]);
    const first = await commands.get(tx, estimated);
    assert.deepEqual([first.status, first.revision, first.retiredBy], ['retired', 3, 'ops2']);
    await assert.rejects(commands.activate(tx, estimated, 'ops'), (e: unknown) => e instanceof ParameterSetStateError && e.code === 'IDENTITY.PARAMETERS.RETIRED');
    const { active, sets } = await commands.list(tx);
    assert.deepEqual(active.map((a) => [a.sourceSystem, a.version]), [['HOSP-US', second.version]]);
    assert.equal(sets.length, 2);
    const link = await assignOne(us({ ...generated[12].record, recordId: 'after-second' }));
    assert.equal(link.explanation!.parametersVersion, second.version);
  });

  it('another replica picks the activation up on its next reload (at most a minute), not before', async () => {
    const before = await assignOne(us({ ...generated[20].record, recordId: 'replica-1' }), replica);
    assert.equal(before.explanation!.parametersVersion, DEFAULT_MATCH_CONFIG.version, 'still within the reload interval');
    clock += 60_001;
    const afterReload = await assignOne(us({ ...generated[21].record, recordId: 'replica-2' }), replica);
    const [{ version }] = await db.query(`SELECT version FROM empi_parameter_set WHERE status = 'active'`);
    assert.equal(afterReload.explanation!.parametersVersion, version);
  });

  it('retiring the active set sends the source back to the default (the way back from an activation); retiring it again is 409', async () => {
    const [{ version }] = await db.query(`SELECT version FROM empi_parameter_set WHERE status = 'active'`);
    await assert.rejects(commands.retire(tx, version, 'ops', 1), (e: unknown) => e instanceof ParameterSetRevisionMismatchError && e.status === 412);
    const retired = await commands.retire(tx, version, 'ops');
    assert.deepEqual([retired.status, retired.retiredBy], ['retired', 'ops']);
    const link = await assignOne(us({ ...generated[30].record, recordId: 'after-retire' }));
    assert.equal(link.explanation!.parametersVersion, DEFAULT_MATCH_CONFIG.version);
    await assert.rejects(commands.retire(tx, version, 'ops'), (e: unknown) => e instanceof ParameterSetStateError && e.status === 409 && e.code === 'IDENTITY.PARAMETERS.RETIRED');
    assert.deepEqual((await commands.list(tx)).active, []);
  });

});
