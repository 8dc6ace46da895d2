import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataSource } from 'typeorm';
import { EventRuntimeTables1732200000000, InboundEvent, OutgoingEvent, UnitOfWork, eventContext, inTransaction, originOf } from '@clinmesh/event-runtime';
import type { CanonicalEvent, CanonicalRecords, Coding, DeliveryEvent, IdentityEvent, Observation, Patient } from '@clinmesh/schemas';
import { EVENT_TOPICS } from '@clinmesh/topology';
import { MigratedDatabases, testEnvironment } from '@clinmesh/testing';
import { loadPolicyFiles } from '../files/policy-files';
import { PolicyStore } from '../../application/policy-store';
import { RouteCanonicalEventHandler } from '../../application/route-canonical-event.handler';
import { DeliveryEventsHandler, IdentityEventsHandler } from '../../application/patient-events.handlers';
import type { ConsentProvision } from '../../domain/consent';
import { PolicyHeldViews1764390000000, PolicyRejections1764380000000, PolicyTables1764370000000 } from './policy.tables';
import { policyStores } from './policy.repositories';

const SECRET = 'a-pseudonym-secret-for-the-chunk-store-test';
const NOW = Date.parse('2026-11-29T12:00:00Z');
const files = loadPolicyFiles(`${process.cwd()}/apps/policy/policy`);

/** The shipped policy with a delay rule (results reach integration partners an hour later: held views), and a candidate that drops research from results (shadow diffs). */
function policies(): PolicyStore {
  const shipped = structuredClone(files.policy.set) as unknown as { version: string; routing: Array<Record<string, any>> };
  const active = structuredClone(shipped);
  active.version = `${shipped.version}-chunk`;
  active.routing.push({
    id: 'hold-results-for-partners', description: 'results reach integration partners after the care team has had them',
    when: { messageTypes: ['ORU^*'] }, then: { action: 'delay', delaySeconds: 3600, delayAudiences: ['integration-subscribers'] },
  });
  const candidate = structuredClone(active);
  candidate.version = `${shipped.version}-candidate`;
  const results = candidate.routing.find((r) => r.id === 'result-review')!;
  results.then.audiences = results.then.audiences.filter((a: string) => a !== 'research');
  const store = new PolicyStore(files.validator, files.validator.policy(active), files.identifierSystems);
  store.setCandidate(files.validator.policy(candidate));
  return store;
}

const prov = { sourceSystem: 'LAB', messageId: 'CTRL-1', sourceFormat: 'HL7V2', sourceMessageType: 'ORU^R01', mappingVersion: '1', sourceFields: [] };
const coding = (system: string, code: string): Coding => ({ system, code, display: null, mapping: 'STANDARD', unmapped: false, unmappedReason: null, originalSystem: null, originalCode: null });
const time = (iso: string) => ({ instant: Date.parse(iso), original: iso, offset: '+0000', precision: 'SECOND' as const, offsetSource: 'SOURCE' as const, date: iso.slice(0, 10) });

function observation(id: string, loinc: string, interpretation: string): Observation {
  return {
    id, changeType: 'CREATE', correction: false, patientId: 'pat', provenance: prov, status: 'final', code: { codings: [coding('http://loinc.org', loinc)], text: null },
    valueType: 'NM', valueQuantity: { value: 1, comparator: null, unit: 'x', ucum: null }, valueString: null, valueCode: null, valueTime: null, convertedValues: [],
    referenceRange: null, interpretation: [coding('http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', interpretation)], effective: time('2026-11-21T07:55:00Z'),
    issued: null, reportId: 'rep', orderId: 'ord', subId: null, partOfId: null, partOfType: null,
  };
}

function patient(epid: string): Patient {
  return {
    id: `pat-${epid}`, changeType: 'UPDATE', correction: false, provenance: prov, identifiers: [{ system: 'TESTHOSP', value: `MRN-${epid}`, type: 'MR' }],
    names: [{ family: 'NGUYEN', given: ['AMARA'], prefix: [], suffix: [], use: null }], birthDate: '1970-03-04', gender: 'female',
    addresses: [{ lines: ['1 MAIN ST'], city: 'SPRINGFIELD', state: 'IL', postalCode: '62701', country: 'US', use: null }],
    telecoms: [{ system: 'phone', value: '(217)555-0101', use: 'home' }], deceased: null, deceasedAt: null, maritalStatus: null, mergedIdentifiers: [],
  };
}

/** Kinds of canonical event: a normal result, an HIV result (labelled), a critical result (stat), an admission. */
type Kind = 'result' | 'hiv' | 'critical' | 'admission';

function canonicalEvent(n: number, epid: string, kind: Kind): InboundEvent<CanonicalEvent> {
  const messageType = kind === 'admission' ? 'ADT^A01' : 'ORU^R01';
  const observations = kind === 'admission' ? [] : [observation(`o-${n}`, kind === 'hiv' ? '7917-8' : '2345-7', kind === 'critical' ? 'HH' : 'N')];
  const records: CanonicalRecords = {
    patients: [patient(epid)], encounters: [], observations, diagnosticReports: [], serviceRequests: [], medicationRequests: [], medicationAdministrations: [],
    immunizations: [], appointments: [], conditions: [], allergies: [], documents: [], procedures: [], coverages: [],
  };
  const value: CanonicalEvent = {
    eventId: `can-${n}`, correlationId: `msg-${n}`, causationId: `idf-${n}`, epid, tier: 'routine', changeType: 'CREATE', occurredAt: Date.parse('2026-11-21T07:55:00Z'),
    recordedAt: Date.parse('2026-11-21T08:30:00Z'), receivedAt: Date.parse('2026-11-21T08:30:01Z'), source: { system: 'LAB', facility: 'TESTHOSP' } as CanonicalEvent['source'],
    resourceType: kind === 'admission' ? 'Encounter' : 'Observation', canonicalId: `rec-${n}`, document: JSON.stringify({ resourceType: 'Observation', id: `rec-${n}`, messageType }),
    provenance: { ...prov, sourceMessageType: messageType }, records, unmappedCodes: [], issues: [], supersedesEventId: null,
  };
  return { eventId: value.eventId, correlationId: value.correlationId, tier: 'routine', topic: 'clinical.canonical.routine', partition: 0, offset: n, key: epid, headers: {}, schemaId: 1, value };
}

function identityEvent(id: string, value: Partial<IdentityEvent> & Pick<IdentityEvent, 'type' | 'epid'>): InboundEvent<IdentityEvent> {
  const full: IdentityEvent = { eventId: id, correlationId: id, recordKey: 'none', method: 'test', at: NOW, ...value };
  return { eventId: id, correlationId: id, tier: 'urgent', topic: 'clinical.identity.events', partition: 0, offset: 0, key: null, headers: {}, schemaId: 1, value: full };
}

/** A delivery receipt from the notifier for a routed view (DELIVERED ones are kept for the accounting of disclosures). */
function deliveryEvent(n: number, status: DeliveryEvent['status'] = 'DELIVERED'): InboundEvent<DeliveryEvent> {
  const value: DeliveryEvent = {
    eventId: `dlv-${n}`, correlationId: `msg-${n}`, deliveryId: `delivery-${n}`, subscriptionId: `sub-${n % 3}`, sourceEventId: `routed-${n}`, status, attempts: 1, at: NOW + n,
  };
  return { eventId: value.eventId, correlationId: value.correlationId, tier: 'routine', topic: 'clinical.delivery.events', partition: 0, offset: n, key: value.subscriptionId, headers: {}, schemaId: 1, value };
}

type Step = { canonical: InboundEvent<CanonicalEvent> } | { identity: InboundEvent<IdentityEvent> } | { delivery: InboundEvent<DeliveryEvent> };

const provision = (p: Partial<ConsentProvision>): ConsentProvision => ({
  type: 'permit', audiences: [], actions: [], securityLabels: [], purposes: [], classes: [], codes: [], provisions: [], ...p,
});
const deny = (audience: string) => provision({ provisions: [provision({ type: 'deny', audiences: [audience] })] });
const PENDING_KEY = 'record-key-of-EP-3';

/**
 * One chunk mixing patients with and without consents, a break-glass grant, held views (delay rule),
 * shadow diffs (candidate), an event handled twice, and — as a lane's combined commit can put them in
 * the same transaction — identity events that change patient state between canonical events: a
 * pending consent applied to EP-3 (its later events are decided under it) and EP-5 merged into EP-4
 * (EP-5's earlier decisions move to EP-4, EP-4's later events are decided under EP-5's consent too).
 */
function steps(): Step[] {
  const kinds: Kind[] = ['result', 'hiv', 'admission', 'critical'];
  const out: Step[] = [];
  let n = 0;
  const some = (epids: string[]) => { for (const epid of epids) out.push({ canonical: canonicalEvent(n, epid, kinds[n++ % kinds.length]) }); };
  some(['EP-0', 'EP-1', 'EP-2', 'EP-5', 'EP-3', 'EP-4', 'EP-6', 'EP-3', 'EP-5', 'EP-1', 'EP-0', 'EP-4']);
  out.push({ identity: identityEvent('idn-linked', { type: 'RECORD_LINKED', epid: 'EP-3', recordKey: PENDING_KEY }) });
  some(['EP-3', 'EP-2', 'EP-3', 'EP-6', 'EP-5', 'EP-3']);
  out.push({ identity: identityEvent('idn-merged', { type: 'PERSONS_MERGED', epid: 'EP-4', otherEpid: 'EP-5' }) });
  some(['EP-4', 'EP-5', 'EP-4', 'EP-0', 'EP-1', 'EP-4', 'EP-2', 'EP-6']);
  // Delivery receipts of the delivery-events consumer (the same transaction in a combined commit): a failed one is not kept, one arrives twice.
  for (const d of [deliveryEvent(1), deliveryEvent(2, 'FAILED'), deliveryEvent(3), deliveryEvent(1)]) out.push({ delivery: d });
  // The same event again in the chunk (a redelivery): its rows stay the first handling's, its outputs carry the same ids.
  out.push({ canonical: (out[4] as { canonical: InboundEvent<CanonicalEvent> }).canonical });
  out.push({ canonical: (out[9] as { canonical: InboundEvent<CanonicalEvent> }).canonical });
  return out;
}

const TABLES = {
  pl_decision: `SELECT decision_id, canonical_event_id, correlation_id, epid, audience, effect, obligations, policy_version, rule_ids, routing_rule_ids, consent_id,
    consent_provision, consent_decision, labels, withheld_labels, purpose, grant_id, projection, deidentified, tier, original_tier, critical, workflows,
    routed_event_id, resource_type, reason, explanation, revoked_at FROM pl_decision ORDER BY decision_id`,
  pl_held_view: 'SELECT routed_event_id, decision_id, audience, topic, key, tier, value, release_at, released_at FROM pl_held_view ORDER BY routed_event_id',
  pl_shadow_diff: 'SELECT candidate_version, active_version, canonical_event_id, correlation_id, audience, active, candidate FROM pl_shadow_diff ORDER BY id',
  pl_consent: 'SELECT id, epid, status, applied_at IS NOT NULL AS applied FROM pl_consent ORDER BY id',
  pl_break_glass: 'SELECT id, epid, audience, status FROM pl_break_glass ORDER BY id',
  pl_delivery: 'SELECT event_id, source_event_id, subscription_id, status, at FROM pl_delivery ORDER BY event_id',
};

/** What a handling emitted, without the trace context (a fresh span id per emit) and the identity path's policy events' wall-clock `at`. */
const outputs = (sink: OutgoingEvent[]) => sink.map((o) => ({
  topic: o.topic, key: o.key, eventId: o.meta.eventId, tier: o.meta.tier, value: o.topic === EVENT_TOPICS.policy ? { ...(o.value as object), at: 0 } : o.value,
}));

/**
 * Policy's canonical path written set-based per chunk (PolicyChunkStore) on real PostgreSQL: a
 * whole chunk in one transaction must leave exactly the rows, and emit exactly the outputs, that the
 * same steps handled one per transaction leave and emit — the one-by-one order is the reference.
 */
describe('policy chunk store on PostgreSQL', { timeout: 180_000 }, () => {
  const env = testEnvironment();
  const store = policies();
  const route = new RouteCanonicalEventHandler(store, policyStores, SECRET, undefined, () => NOW);
  const identity = new IdentityEventsHandler(policyStores);
  const deliveries = new DeliveryEventsHandler(policyStores);
  const databases = new MigratedDatabases(env, [EventRuntimeTables1732200000000, PolicyTables1764370000000, PolicyRejections1764380000000, PolicyHeldViews1764390000000]);

  async function database(label: string): Promise<DataSource> {
    const db = await databases.create(label);
    // Patient state: consents for EP-1 (care coordination denied), EP-2 (HIV released to everyone), EP-5 (scheduling denied), EP-0
    // (integration feed denied, overridden by a break-glass grant), and a pending consent (research denied) for the record key EP-3 links.
    const s = policyStores(db);
    const consent = (id: string, epid: string | null, p: ConsentProvision, keys = [`key-${id}`]) =>
      s.consents.insert({ id, version: 1, status: 'active', patientKeys: keys, patientSystem: 'urn:test', epid, resource: {}, provision: p, recordedBy: 'test' });
    await consent('consent-1', 'EP-1', deny('care-coordination'));
    await consent('consent-2', 'EP-2', provision({ securityLabels: ['HIV'] }));
    await consent('consent-5', 'EP-5', deny('scheduling'));
    await consent('consent-0', 'EP-0', deny('integration-subscribers'));
    await consent('consent-3', null, deny('research'), [PENDING_KEY]);
    await s.grants.insert({ id: 'grant-0', epid: 'EP-0', audience: 'integration-subscribers', actor: 'dr-test', reason: 'emergency care', expiresAt: new Date(NOW + 3_600_000) });
    return db;
  }

  /** As the runtime runs one transaction: the canonical consumer's prepare, every step's handler in order, the consumers' completes. */
  async function runChunk(db: DataSource, chunk: Step[], wrap: (uow: UnitOfWork) => UnitOfWork = (uow) => uow): Promise<unknown[][]> {
    return inTransaction(db, async (raw: UnitOfWork) => {
      const uow = wrap(raw);
      const emitted: unknown[][] = [];
      const canonical = chunk.flatMap((s) => ('canonical' in s ? [s.canonical] : []));
      if (canonical.length) await route.prepare(canonical, uow);
      for (const step of chunk) {
        const sink: OutgoingEvent[] = [];
        if ('canonical' in step) await route.handle(step.canonical, eventContext(uow, originOf(step.canonical), sink));
        else if ('identity' in step) await identity.handle(step.identity, eventContext(uow, originOf(step.identity), sink));
        else await deliveries.handle(step.delivery, eventContext(uow, originOf(step.delivery), sink));
        emitted.push(outputs(sink));
      }
      if (canonical.length) await route.complete(uow);
      if (chunk.some((s) => 'delivery' in s)) await deliveries.complete(uow);
      return emitted;
    });
  }
  const oneByOne = async (db: DataSource, chunk: Step[]) => {
    const emitted: unknown[][] = [];
    for (const step of chunk) emitted.push(...await runChunk(db, [step]));
    return emitted;
  };
  const snapshot = async (db: DataSource) => Object.fromEntries(await Promise.all(Object.entries(TABLES).map(async ([t, sql]) => [t, await db.query(sql)] as const)));

  let reference: DataSource;
  let chunked: DataSource;
  before(async () => {
    reference = await database('pl_chunk_ref');
    chunked = await database('pl_chunk_set');
  });

  after(() => databases.dropAll());

  it('one chunk leaves the same rows and emits the same outputs as one step per transaction, identity changes within the chunk included', async () => {
    const chunk = steps();
    const expectedOutputs = await oneByOne(reference, chunk);
    const actualOutputs = await runChunk(chunked, chunk);
    const [expected, actual] = [await snapshot(reference), await snapshot(chunked)];

    // The scenario exercises what it claims (on the reference, so these hold whatever the chunk store does).
    const decisions = expected.pl_decision as Array<Record<string, any>>;
    const of = (eventNo: number, audience: string) => decisions.find((d) => d.canonical_event_id === `can-${eventNo}` && d.audience === audience);
    assert.equal(of(22, 'care-coordination')?.consent_decision, 'CONSENT_DENY', 'EP-1 denied care coordination by consent');
    assert.equal(of(0, 'integration-subscribers')?.purpose, 'BTG', 'EP-0 integration feed released under break-glass');
    assert.equal(of(4, 'research')?.effect, 'PERMIT', 'EP-3 research permitted before its pending consent applied');
    assert.equal(of(12, 'research')?.effect, 'DENY', 'EP-3 research denied by the consent applied in the middle of the chunk');
    assert.equal(of(8, 'care-coordination')?.epid, 'EP-4', 'EP-5 decisions taken before the merge moved to the survivor');
    assert.equal(of(18, 'scheduling')?.consent_decision, 'CONSENT_DENY', 'EP-4 events after the merge decided under EP-5\'s consent');
    assert.ok(expected.pl_held_view.length >= 5, `views held by the delay rule (${expected.pl_held_view.length})`);
    assert.ok(expected.pl_shadow_diff.length >= 5, `shadow diffs (${expected.pl_shadow_diff.length})`);
    assert.ok(decisions.length >= 80, `decisions (${decisions.length})`);
    assert.deepEqual(expected.pl_delivery.map((d: { event_id: string }) => d.event_id), ['dlv-1', 'dlv-3'], 'delivered receipts kept once, a failed one not');

    assert.deepEqual(actual, expected);
    assert.deepEqual(actualOutputs, expectedOutputs);
  });

  it('a chunk handled again (replay after the inbox forgot it) changes no row and emits the same outputs', async () => {
    const again = steps().slice(0, 8);
    const expectedOutputs = await oneByOne(reference, again);
    const actualOutputs = await runChunk(chunked, again);
    assert.deepEqual(await snapshot(chunked), await snapshot(reference));
    assert.deepEqual(actualOutputs, expectedOutputs);
  });

  it('a chunk issues a constant number of statements whatever its size', async (t) => {
    const counted = async (size: number, from: number) => {
      let statements = 0;
      let deferred = 0;
      const wrap = (uow: UnitOfWork): UnitOfWork => ({
        ...uow,
        query: <T,>(sql: string, params?: unknown[]) => { statements++; return uow.query<T>(sql, params); },
        execute: (sql: string, params?: unknown[]) => { statements++; return uow.execute(sql, params); },
        deferWrite: (sql: string, params?: unknown[]) => { deferred++; uow.deferWrite(sql, params); },
      });
      const epids = ['EP-0', 'EP-1', 'EP-2', 'EP-3', 'EP-4', 'EP-6', 'EP-7', 'EP-8'];
      const kinds: Kind[] = ['result', 'hiv', 'admission', 'critical'];
      const chunk: Step[] = Array.from({ length: size }, (_, i) => ({ canonical: canonicalEvent(from + i, epids[i % epids.length], kinds[i % kinds.length]) }));
      chunk.push(...Array.from({ length: size }, (_, i) => ({ delivery: deliveryEvent(from + i) })));
      const emitted = await runChunk(chunked, chunk, wrap);
      // What the per-event path issued for the same chunk: the two preloads, one decision insert per event, one held-view insert per
      // event that held a view, one insert per shadow diff, one insert per delivery receipt.
      const rows = await chunked.query<Array<{ held: number; diffs: number }>>(
        `SELECT (SELECT count(DISTINCT d.canonical_event_id) FROM pl_held_view h JOIN pl_decision d ON d.decision_id = h.decision_id WHERE d.canonical_event_id = ANY($1))::int AS held,
                (SELECT count(*) FROM pl_shadow_diff WHERE canonical_event_id = ANY($1))::int AS diffs`, [chunk.map((s) => ('canonical' in s ? s.canonical.eventId : ''))]);
      const perEvent = 2 + size + rows[0].held + rows[0].diffs + size;
      assert.ok(emitted.flat().length > size, 'the chunk routed views and decisions');
      return { statements, deferred, perEvent };
    };
    const one = await counted(1, 1000);
    const ten = await counted(10, 2000);
    const fifty = await counted(50, 3000);
    t.diagnostic(`statements per chunk of n canonical events + n delivery receipts: n=1 ${one.statements} + ${one.deferred} deferred, n=10 ${ten.statements} + ${ten.deferred}, n=50 ${fifty.statements} + ${fifty.deferred} (per-event path: ${one.perEvent}, ${ten.perEvent}, ${fifty.perEvent})`);
    // The writes ride on the consumer's closing statement (uow.deferWrite): no round trip of their own.
    assert.equal(fifty.statements, 2, `two preloads, nothing else at once (${fifty.statements})`);
    assert.ok(fifty.deferred >= 2 && fifty.deferred <= 4, `one deferred multi-row write per table that has rows (${fifty.deferred})`);
    assert.equal(fifty.statements + fifty.deferred, ten.statements + ten.deferred, 'independent of the chunk size');
    assert.ok(fifty.perEvent > 50, `the per-event path grew with the chunk (${fifty.perEvent})`);
  });

  /** Identity events as the identity-events consumer runs them in one transaction: its prepare, then each handler; the statements counted. */
  async function runIdentityChunk(db: DataSource, events: Array<InboundEvent<IdentityEvent>>): Promise<{ emitted: unknown[][]; statements: number }> {
    let statements = 0;
    const emitted = await inTransaction(db, async (raw: UnitOfWork) => {
      const uow: UnitOfWork = {
        ...raw,
        query: <T,>(sql: string, params?: unknown[]) => { statements++; return raw.query<T>(sql, params); },
        execute: (sql: string, params?: unknown[]) => { statements++; return raw.execute(sql, params); },
      };
      await identity.prepare(events, uow);
      const out: unknown[][] = [];
      for (const event of events) {
        const sink: OutgoingEvent[] = [];
        await identity.handle(event, eventContext(uow, originOf(event), sink));
        out.push(outputs(sink));
      }
      return out;
    });
    return { emitted, statements };
  }
  const identityIndex = (db: DataSource) => db.query('SELECT record_key, epid FROM pl_identity_index ORDER BY record_key');
  async function pendingConsents(db: DataSource, prefix: string, named: Record<string, string[]>): Promise<void> {
    for (const [id, keys] of Object.entries(named)) {
      await policyStores(db).consents.insert({ id: `${prefix}-${id}`, version: 1, status: 'active', patientKeys: keys, patientSystem: 'urn:test', epid: null, resource: {}, provision: deny('research'), recordedBy: 'test' });
    }
  }

  it('a chunk of link events is written set-based (two statements) and leaves the same index, consents and events as one by one', async () => {
    const key = (n: number) => `link-key-${n}`;
    // Databases of their own: the test above ran chunks on one side only.
    const [reference, chunked] = [await database('pl_links_ref'), await database('pl_links_set')];
    // Pending consents: one naming two keys of the chunk (the first link naming it applies it), one naming one key, one naming none.
    for (const db of [reference, chunked]) await pendingConsents(db, 'links', { both: [key(2), key(1)], one: [key(3)], none: ['link-key-unseen'] });
    const events = [
      identityEvent('lnk-0', { type: 'PERSON_CREATED', epid: 'EP-10', recordKey: key(0) }),
      identityEvent('lnk-1', { type: 'RECORD_LINKED', epid: 'EP-11', recordKey: key(2) }),
      identityEvent('lnk-2', { type: 'RECORD_LINKED', epid: 'EP-12', recordKey: key(1) }),
      identityEvent('lnk-3', { type: 'PERSON_CREATED', epid: 'EP-13', recordKey: key(3) }),
      identityEvent('lnk-4', { type: 'REVIEW_REQUIRED', epid: 'EP-13', recordKey: key(4) }),
      identityEvent('lnk-5', { type: 'RECORD_LINKED', epid: 'EP-14', recordKey: key(0) }),
      identityEvent('lnk-6', { type: 'RECORD_LINKED', epid: 'EP-15', recordKey: '' }),
    ];
    const expectedOutputs = await oneByOne(reference, events.map((e) => ({ identity: e })));
    const actual = await runIdentityChunk(chunked, events);

    // The scenario exercises what it claims (on the reference).
    const consents = (await reference.query(`SELECT id, epid FROM pl_consent WHERE id LIKE 'links-%' ORDER BY id`)) as Array<{ id: string; epid: string | null }>;
    assert.deepEqual(consents, [{ id: 'links-both', epid: 'EP-11' }, { id: 'links-none', epid: null }, { id: 'links-one', epid: 'EP-13' }]);
    assert.equal((await identityIndex(reference)).find((r: { record_key: string }) => r.record_key === key(0))?.epid, 'EP-14', 'a key linked twice ends on its last EPID');
    assert.equal(expectedOutputs.flat().length, 2, 'two CONSENT_APPLIED events');

    assert.deepEqual(await snapshot(chunked), await snapshot(reference));
    assert.deepEqual(await identityIndex(chunked), await identityIndex(reference));
    assert.deepEqual(actual.emitted, expectedOutputs);
    assert.equal(actual.statements, 2, 'one index upsert and one consent statement for the whole chunk');
  });

  it('a chunk holding a merge is handled event by event, and still equals one by one', async () => {
    const key = (n: number) => `merge-key-${n}`;
    const [reference, chunked] = [await database('pl_merge_ref'), await database('pl_merge_set')];
    for (const db of [reference, chunked]) await pendingConsents(db, 'merge', { late: [key(2)] });
    const events = [
      identityEvent('mrg-0', { type: 'PERSON_CREATED', epid: 'EP-20', recordKey: key(0) }),
      identityEvent('mrg-1', { type: 'PERSONS_MERGED', epid: 'EP-21', otherEpid: 'EP-20' }),
      identityEvent('mrg-2', { type: 'RECORD_LINKED', epid: 'EP-20', recordKey: key(2) }),
    ];
    const expectedOutputs = await oneByOne(reference, events.map((e) => ({ identity: e })));
    const actual = await runIdentityChunk(chunked, events);
    // One by one, the link after the merge keeps the merged-away EPID it names; writing it before the merge would move it.
    assert.equal((await identityIndex(reference)).find((r: { record_key: string }) => r.record_key === key(2))?.epid, 'EP-20');
    assert.equal((await identityIndex(reference)).find((r: { record_key: string }) => r.record_key === key(0))?.epid, 'EP-21');
    assert.deepEqual(await snapshot(chunked), await snapshot(reference));
    assert.deepEqual(await identityIndex(chunked), await identityIndex(reference));
    assert.deepEqual(actual.emitted, expectedOutputs);
  });
});
