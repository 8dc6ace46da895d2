import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { DEFAULT_TERMINOLOGY, TerminologyMaps, RECORD_LISTS } from '@clinmesh/canonical';
import { EventRuntimeTables1732200000000, InboundEvent, OutgoingEvent, UnitOfWork, eventContext, inTransaction, originOf } from '@clinmesh/event-runtime';
import { findSchemasDir, type CanonicalEvent, type IdentifiedEvent, type UnmappedCode } from '@clinmesh/schemas';
import { MigratedDatabases, testEnvironment } from '@clinmesh/testing';
import { NormalizeMessageHandler } from '../../application/normalize-message.handler';
import { CanonicalChunkStore } from './canonical-chunk.store';
import { CanonicalModelTables1732200002100, CanonicalRecordTable1732200002000, CanonicalResourceTable1732200002200 } from './normalization.migrations';

const FIXTURES = join(findSchemasDir(), '..', '..', 'shared', 'fixtures', 'hl7v2');

/** Identified events from the shared HL7 fixtures: each message twice under new event ids (an update of the same facts), one with a changed value. */
function identifiedEvents(): Array<InboundEvent<IdentifiedEvent>> {
  const raws = readdirSync(FIXTURES).filter((f) => f.endsWith('.hl7')).sort().slice(0, 12).map((f) => readFileSync(join(FIXTURES, f)));
  const events: Array<InboundEvent<IdentifiedEvent>> = [];
  const add = (raw: Buffer, n: number) => {
    const value: IdentifiedEvent = {
      eventId: `id-${n}`, correlationId: `corr-${n}`, causationId: `ing-${n}`, epid: `EP-${n % 5}`, tier: 'routine',
      identity: { method: 'deterministic-identifier', score: null, personCreated: false },
      ingested: {
        eventId: `ing-${n}`, correlationId: `corr-${n}`, receivedAt: 1_764_000_000_000, tier: 'routine', triageRule: 'test', source: { system: 'LAB', facility: 'F', channel: 'MLLP' },
        format: 'HL7V2', messageType: 'ORU^R01', controlId: `C-${n}`, version: '2.5.1', sourcePatientKey: 'k', patientIdentifiers: [], contentType: 'x-application/hl7-v2+er7', raw,
      },
    };
    events.push({ eventId: value.eventId, correlationId: value.correlationId, causationId: value.causationId, tier: 'routine', receivedAt: 1_764_000_000_000, topic: 'clinical.identified.routine', partition: 0, offset: n, key: value.epid, headers: {}, schemaId: 1, value });
  };
  raws.forEach((raw, i) => add(raw, i));
  // The same messages again (new input events, the same records): revisions, last-wins rows, code resolution.
  raws.forEach((raw, i) => add(i % 3 === 0 ? Buffer.from(raw.toString('latin1').replace(/\|(\d+(?:\.\d+)?)\|/, '|9$1|'), 'latin1') : raw, raws.length + i));
  return events;
}

const TABLES = {
  nz_source_event: 'SELECT source_event_id, last_event_id, supersedes_event_id, fingerprint, mapping_version FROM nz_source_event ORDER BY 1',
  nz_canonical_record: 'SELECT canonical_id, epid, resource_type, last_event_id, change_type, correction, revisions FROM nz_canonical_record ORDER BY 1',
  nz_canonical_resource: 'SELECT canonical_id, resource_type, epid, record, content_hash, version, last_event_id FROM nz_canonical_resource ORDER BY 1',
  nz_unmapped_code: 'SELECT source_system, code_system, code, element, record_id, record_type, reason, last_event_id, resolved_at IS NULL AS open FROM nz_unmapped_code ORDER BY 1, 2, 3, 4, 5',
};

/**
 * Normalization's store written set-based per chunk (CanonicalChunkStore) on real PostgreSQL: a
 * whole chunk in one transaction must leave exactly the tables that the same events handled one
 * per transaction leave — the one-by-one order is the reference.
 */
describe('normalization chunk store on PostgreSQL', { timeout: 180_000 }, () => {
  const env = testEnvironment();
  const handler = new NormalizeMessageHandler({
    terminology: () => new TerminologyMaps(DEFAULT_TERMINOLOGY), senderTimeZone: () => 'America/Chicago', unmappedObserved: () => undefined,
  }, (ctx) => CanonicalChunkStore.of(ctx.uow));
  const databases = new MigratedDatabases(env, [EventRuntimeTables1732200000000, CanonicalRecordTable1732200002000, CanonicalModelTables1732200002100, CanonicalResourceTable1732200002200]);
  const database = (label: string) => databases.create(label);

  /** As the runtime runs a chunk: prepare, the handlers in order, complete — in one transaction. */
  const runChunk = (db: DataSource, chunk: Array<InboundEvent<IdentifiedEvent>>, sink: OutgoingEvent[] = []) => inTransaction(db, async (uow: UnitOfWork) => {
    await CanonicalChunkStore.of(uow).preload(chunk.map((e) => e.value.eventId));
    for (const e of chunk) await handler.handle(e, eventContext(uow, originOf(e), sink));
    await CanonicalChunkStore.of(uow).flush();
  });
  const snapshot = async (db: DataSource) => Object.fromEntries(await Promise.all(Object.entries(TABLES).map(async ([t, sql]) => [t, await db.query(sql)] as const)));

  after(() => databases.dropAll());

  it('one chunk leaves the same rows as one event per transaction (revisions, last-wins records, versions, unmapped codes)', async () => {
    const events = identifiedEvents();
    const oneByOne = await database('nz_chunk_ref');
    const chunked = await database('nz_chunk_set');
    for (const e of events) await runChunk(oneByOne, [e]);
    const emitted: OutgoingEvent[] = [];
    await runChunk(chunked, events, emitted);
    const [reference, actual] = [await snapshot(oneByOne), await snapshot(chunked)];
    // Each stored resource is the record as the last event that carried it published it (read back as jsonb).
    const published = new Map<string, unknown>();
    for (const out of emitted) {
      const records = (out.value as CanonicalEvent).records!;
      for (const list of Object.values(RECORD_LISTS)) for (const r of records[list] as Array<{ id: string }>) published.set(r.id, JSON.parse(JSON.stringify(r)));
    }
    assert.equal(actual.nz_canonical_resource.length, published.size);
    for (const row of actual.nz_canonical_resource as Array<{ canonical_id: string; record: unknown }>) assert.deepEqual(row.record, published.get(row.canonical_id), row.canonical_id);
    assert.ok(reference.nz_canonical_record.length > 20, `the fixtures produce records (${reference.nz_canonical_record.length})`);
    assert.ok(reference.nz_canonical_record.some((r: { revisions: number }) => r.revisions === 2), 'records published twice have two revisions');
    assert.ok(reference.nz_canonical_resource.some((r: { version: number }) => r.version === 2), 'a changed value makes a second version');
    assert.deepEqual(actual, reference);

    // Handled again (inbox purged): every input's last publication is already stored, nothing is counted twice.
    await runChunk(chunked, events.slice(0, 6));
    for (const e of events.slice(0, 6)) await runChunk(oneByOne, [e]);
    assert.deepEqual(await snapshot(chunked), await snapshot(oneByOne));
  });

  it("a record's open codes are those of its last publication: earlier ones resolved with its mapping version, one seen again open since its first sighting", async () => {
    const db = await database('nz_chunk_codes');
    const code = (c: string): UnmappedCode => ({ recordType: 'Observation', recordId: 'obs-1', element: 'Observation.code', system: 'LOCAL', code: c, display: c, reason: 'NO_MAP', sourceField: 'OBX-3' } as UnmappedCode);
    const published = (eventId: string, version: string, codes: UnmappedCode[]) => ({ eventId, source: { system: 'LAB' }, provenance: { mappingVersion: version }, unmappedCodes: codes }) as unknown as CanonicalEvent;
    const publish = (canonical: CanonicalEvent) => inTransaction(db, async (uow) => {
      const store = CanonicalChunkStore.of(uow);
      await store.recordUnmapped(canonical, ['obs-1']);
      await store.flush();
    });
    const codes = async () => Object.fromEntries((await db.query(
      `SELECT code, resolved_at IS NULL AS open, resolved_by_version AS version, last_event_id AS event, first_seen FROM nz_unmapped_code WHERE record_id = 'obs-1' ORDER BY code`,
    )).map((r: { code: string; open: boolean; version: string | null; event: string; first_seen: Date }) => [r.code, r]));
    await publish(published('ev-1', 'v1', [code('A'), code('B')]));
    const firstSeenB = (await codes()).B.first_seen.getTime();
    await publish(published('ev-2', 'v2', [code('B'), code('C')]));
    let now = await codes();
    assert.deepEqual([now.A.open, now.A.version, now.A.event], [false, 'v2', 'ev-1'], 'A: not in the last publication, resolved by its version');
    assert.deepEqual([now.B.open, now.B.version, now.B.event], [true, null, 'ev-2'], 'B: still unmapped, open, seen last by ev-2');
    assert.equal(now.B.first_seen.getTime(), firstSeenB, 'B keeps its first sighting');
    assert.deepEqual([now.C.open, now.C.event], [true, 'ev-2']);
    await publish(published('ev-3', 'v3', []));
    now = await codes();
    assert.deepEqual(Object.values(now).map((r) => [r.open, r.version]), [[false, 'v2'], [false, 'v3'], [false, 'v3']], 'all resolved; A keeps the version that resolved it');
  });
});
