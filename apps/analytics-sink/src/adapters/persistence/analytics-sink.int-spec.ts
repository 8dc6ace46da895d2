import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataSource } from 'typeorm';
import { EventRuntimeTables1732200000000, eventContext, inTransaction, originOf } from '@clinmesh/event-runtime';
import { TestDatabase, createTestDatabase, testEnvironment, uniqueName } from '@clinmesh/testing';
import type { CanonicalEvent, IdentityEvent } from '@clinmesh/schemas';
import { RecordCanonicalEventHandler } from '../../application/record-canonical-event.handler';
import { ApplyIdentityChangeHandler } from '../../application/apply-identity-change.handler';
import { canonicalEvent, glucose, identityEvent, inbound, observationRecord } from '../../testing/canonical-event.builders';
import { AnalyticsRepository } from './analytics.repository';
import { ANALYST_ROLE, AnalyticsSinkTables1795909521857 } from './analytics.migrations';

/**
 * The sink's SQL on real PostgreSQL (the embedded platform's), in a throwaway database:
 * upsert by canonical id with history, EPID merges and unmerges, the views, and the
 * analyst role's read-only access.
 */
describe('analytics-sink on PostgreSQL', { timeout: 120_000 }, () => {
  const env = testEnvironment();
  const dbName = uniqueName('analytics_int').slice(0, 63);
  let db: DataSource;
  let testDb: TestDatabase | undefined;
  const records = new RecordCanonicalEventHandler((ctx) => new AnalyticsRepository(ctx.uow));
  const identity = new ApplyIdentityChangeHandler((ctx) => new AnalyticsRepository(ctx.uow));
  const handle = (event: CanonicalEvent) => inTransaction(db, (uow) => records.handle(event, eventContext(uow, originOf(inbound(event)), [])));
  const handleIdentity = (event: IdentityEvent) => inTransaction(db, (uow) => identity.handle(event, eventContext(uow, { id: event.eventId, correlationId: event.correlationId, tier: 'urgent' }, [])));
  const observation = async (id: string) => (await db.query('SELECT * FROM analytics.observations WHERE canonical_id = $1', [id]))[0];
  const now = Date.now();

  before(async () => {
    testDb = await createTestDatabase(env, dbName);
    db = new DataSource({
      type: 'postgres', url: testDb.url, migrations: [EventRuntimeTables1732200000000, AnalyticsSinkTables1795909521857], migrationsTableName: 'cm_migrations',
    });
    await db.initialize();
    await db.runMigrations({ transaction: 'all' });
  });
  after(async () => {
    await db?.destroy();
    await testDb?.drop();
  });

  it('upserts by canonical id; a correction replaces the value and the replaced version goes to the history; older versions and redeliveries change nothing', async () => {
    assert.equal(await handle(canonicalEvent([glucose('o-1', 182, now - 3600_000)], { eventId: 'e1', recordedAt: now - 3000_000 })), 1);
    assert.equal(await handle(canonicalEvent([glucose('o-1', 182, now - 3600_000)], { eventId: 'e1', recordedAt: now - 3000_000 })), 0);
    assert.equal(await handle(canonicalEvent([glucose('o-1', 128, now - 3600_000, { correction: true, status: 'corrected' })], { eventId: 'e2', recordedAt: now - 2000_000 })), 1);
    assert.equal(await handle(canonicalEvent([glucose('o-1', 99, now - 3600_000)], { eventId: 'e0', recordedAt: now - 4000_000 })), 0);
    const row = await observation('o-1');
    assert.equal(row.value_num, 128);
    assert.equal(row.ucum_unit, 'mg/dL');
    assert.equal(row.loinc_code, '2345-7');
    assert.equal(row.correction, true);
    assert.equal(row.version, 2);
    assert.equal(new Date(row.effective_at).getTime(), now - 3600_000);
    const history = await db.query("SELECT * FROM analytics.record_history WHERE table_name = 'observations' AND canonical_id = 'o-1'");
    assert.equal(history.length, 1);
    assert.equal(history[0].row.value_num, 182);
    assert.equal(history[0].superseded_by_event_id, 'e2');
  });

  it('views: latest vital per patient and critical results of the last 24 h', async () => {
    const hr = (id: string, value: number, at: number, eventId: string) => observationRecord({
      id, status: 'final', valueQuantity: { value, comparator: null, unit: '/min', ucum: '/min' },
      code: { codings: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate', mapping: 'STANDARD', unmapped: false, unmappedReason: null, originalSystem: null, originalCode: null }], text: null },
      effective: { instant: at, original: eventId, offset: '+00:00', precision: 'MINUTE', offsetSource: 'SOURCE', date: null },
    });
    await handle(canonicalEvent([hr('hr-1', 72, now - 7200_000, 'a'), hr('hr-2', 88, now - 600_000, 'b')], { eventId: 'v1', epid: 'EPID-V', recordedAt: now }));
    const vitals = await db.query("SELECT * FROM analytics.latest_vitals WHERE epid = 'EPID-V'");
    assert.equal(vitals.length, 1);
    assert.equal(vitals[0].value_num, 88);
    assert.equal(vitals[0].unit, '/min');

    const critical = { system: null, code: 'HH', display: null, mapping: 'STANDARD' as const, unmapped: false, unmappedReason: null, originalSystem: null, originalCode: null };
    await handle(canonicalEvent([glucose('crit-new', 612, now - 3600_000, { interpretation: [critical] }), glucose('crit-old', 640, now - 30 * 3600_000, { interpretation: [critical] })], { eventId: 'c1', epid: 'EPID-C', recordedAt: now }));
    const crit = await db.query("SELECT canonical_id FROM analytics.critical_results_24h WHERE epid = 'EPID-C'");
    assert.deepEqual(crit.map((r: { canonical_id: string }) => r.canonical_id), ['crit-new']);
  });

  it('a merge re-points every record of the merged person to the survivor, also records arriving later; an unmerge restores them', async () => {
    await handle(canonicalEvent([glucose('m-1', 90, now)], { eventId: 'm1', epid: 'EPID-OLD', recordedAt: now }));
    assert.ok((await handleIdentity(identityEvent({ eventId: 'idn-m', epid: 'EPID-NEW', otherEpid: 'EPID-OLD' }))) >= 1);
    assert.equal((await observation('m-1')).epid, 'EPID-NEW');
    await handle(canonicalEvent([glucose('m-2', 91, now)], { eventId: 'm2', epid: 'EPID-OLD', recordedAt: now }));
    assert.equal((await observation('m-2')).epid, 'EPID-NEW', 'late arrival under the merged EPID');
    assert.equal((await observation('m-2')).source_epid, 'EPID-OLD');
    await handleIdentity(identityEvent({ eventId: 'idn-u', type: 'PERSONS_UNMERGED', epid: 'EPID-NEW', otherEpid: 'EPID-OLD' }));
    assert.equal((await observation('m-1')).epid, 'EPID-OLD');
    assert.equal((await observation('m-2')).epid, 'EPID-OLD');
  });

  it('the analyst role reads the analytics schema and nothing else, and cannot write', async () => {
    await inTransaction(db, async (uow) => {
      await uow.query(`SET LOCAL ROLE ${ANALYST_ROLE}`);
      const rows = await uow.query<{ n: number }>('SELECT count(*)::int AS n FROM analytics.observations');
      assert.ok(rows[0].n >= 1);
      await uow.query('SELECT count(*) FROM analytics.latest_vitals');
    });
    await assert.rejects(inTransaction(db, async (uow) => {
      await uow.query(`SET LOCAL ROLE ${ANALYST_ROLE}`);
      await uow.query("UPDATE analytics.observations SET value_num = 0 WHERE canonical_id = 'o-1'");
    }), /permission denied/);
    await assert.rejects(inTransaction(db, async (uow) => {
      await uow.query(`SET LOCAL ROLE ${ANALYST_ROLE}`);
      await uow.query('SELECT count(*) FROM public.cm_inbox');
    }), /permission denied/);
    const [{ can }] = await db.query(`SELECT has_database_privilege('public', current_database(), 'CONNECT') AS can`);
    assert.equal(can, false, 'PUBLIC may not connect');
  });
});
