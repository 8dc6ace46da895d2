import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { InboundEvent, OutgoingEvent, UnitOfWork, eventContext, inTransaction, originOf } from '@clinmesh/event-runtime';
import { sourcePatientKey } from '@clinmesh/security';
import { adtMessage, oruMessage, TestDatabase, createTestDatabase, testEnvironment, uniqueName } from '@clinmesh/testing';
import type { IdentifiedEvent, IdentityEvent, IngestedEvent, Tier } from '@clinmesh/schemas';
import type { PersonRecord } from '@clinmesh/empi';
import { PersonIndexRepository } from '../adapters/persistence/person-index.repository';
import { IDENTITY_MIGRATIONS } from '../adapters/persistence/identity.migrations';
import { AssignEnterpriseIdHandler } from './assign-enterprise-id.handler';
import { IdentityChangeLog } from './identity-change.log';
import { MasterPatientIndex } from './master-patient-index';
import { ReviewAlreadyDecidedError, ReviewVersionConflictError } from '../domain/identity.errors';

const FIXTURES = join(__dirname, '..', '..', '..', '..', '..', '..', 'shared', 'fixtures', 'hl7v2');
const SECRET = 'identity-int-spec-patient-key-secret';

/**
 * The EMPI against real PostgreSQL: store, links with contributions, replay
 * idempotence, concurrency of one new person arriving on several tiers in
 * separate transactions, A40 merge, unmerge, review decisions with
 * optimistic concurrency.
 */
describe('master patient index on PostgreSQL', { timeout: 300_000 }, () => {
  const env = testEnvironment();
  const dbName = uniqueName('ir_int');
  let db: DataSource;
  let testDb: TestDatabase | undefined;
  const index = new MasterPatientIndex();
  const handler = new AssignEnterpriseIdHandler(index, (ctx) => new PersonIndexRepository(ctx.uow), SECRET);

  before(async () => {
    testDb = await createTestDatabase(env, dbName);
    db = new DataSource({
      type: 'postgres', url: testDb.url, migrations: IDENTITY_MIGRATIONS,
      migrationsTableName: 'cm_migrations', extra: { max: 12 },
    });
    await db.initialize();
    // A record linked by the first skeleton must survive the migration with its EPID.
    await db.runMigrations({ transaction: 'all' }).catch(async (e) => { throw e; });
  });
  after(async () => {
    await db?.destroy();
    await testDb?.drop();
  });

  const tx = <T>(work: (repo: PersonIndexRepository, changes: IdentityChangeLog, uow: UnitOfWork) => Promise<T>) =>
    inTransaction(db, (uow) => work(new PersonIndexRepository(uow), new IdentityChangeLog(), uow));
  const assign = (record: PersonRecord, reviewItemId = `rv-${record.recordId}`) => {
    const changes = new IdentityChangeLog();
    return inTransaction(db, async (uow) => ({ a: await index.assign(new PersonIndexRepository(uow), record, changes, { reviewItemId }), changes: changes.changes }));
  };
  const margaret = (recordId: string, system: string, mrn: string, extra: Partial<PersonRecord> = {}): PersonRecord => ({
    recordId, sourceSystem: system, identifiers: [{ system, value: mrn, type: 'MR' }], givenName: 'Margaret', familyName: 'Okafor', birthDate: '1968-04-12', sex: 'F',
    address: { streetNumber: '14', street: 'Wattle Street', city: 'Dubbo', postcode: '2830' }, phone: '0255501234', ...extra,
  });

  it('creates a person, links a second source probabilistically with score and contributions, and keeps a known record on its person', async () => {
    const first = await assign(margaret('k-a1', 'HOSP-A', 'A1'));
    assert.equal(first.a.decision, 'new');
    assert.equal(first.a.personCreated, true);
    assert.deepEqual(first.changes.map((c) => c.change.type), ['PERSON_CREATED']);
    const second = await assign(margaret('k-b9', 'LAB-B', 'B9', { givenName: 'Maggie' }));
    assert.equal(second.a.decision, 'link');
    assert.equal(second.a.method, 'probabilistic');
    assert.equal(second.a.epid, first.a.epid);
    assert.ok(second.a.score! >= 12);
    assert.deepEqual(second.changes.map((c) => c.change.type), ['RECORD_LINKED']);
    const link = await tx((repo) => repo.link('k-b9'));
    assert.equal(link?.score, second.a.score);
    assert.ok(link!.contributions.some((c) => c.field === 'givenName' && c.level === 'nickname'), JSON.stringify(link!.contributions));
    assert.ok(link!.contributions.some((c) => c.field === 'birthDate' && c.weight > 0));
    // The explanation is stored with the link: candidate persons, per-record evidence, thresholds, versions.
    const why = link!.explanation!;
    assert.equal(why.decision, 'link');
    assert.deepEqual(why.thresholds, index.config.thresholds);
    assert.equal(why.parametersVersion, index.config.version);
    assert.equal(why.frequencyVersion, 'us-census-1990');
    assert.equal(why.candidates[0].personId, first.a.epid);
    assert.equal(why.candidates[0].records[0].recordId, 'k-a1');
    assert.ok(why.candidates[0].records[0].contributions.some((c) => c.field === 'familyName' && c.level === 'exact' && c.termFrequency! > 0));
    // Same record re-sent (replay, A08 update with a new phone): same EPID, stored method kept, no change events.
    const again = await assign(margaret('k-b9', 'LAB-B', 'B9', { givenName: 'Maggie', phone: '0299998888' }));
    assert.deepEqual([again.a.epid, again.a.decision, again.a.method, again.changes.length], [first.a.epid, 'known', 'probabilistic', 0]);
    const [row] = await db.query(`SELECT data->>'phone' AS phone FROM empi_record WHERE record_id = 'k-b9'`);
    assert.equal(row.phone, '0299998888', 'demographics refreshed');
  });

  it('opens a review item for a household lookalike, answers a stale version with 412 and a decided item with 409, and links on decision', async () => {
    // Same name, address and phone, a birth date three years off: a relative, or one person with a wrong birth date.
    // (A generation apart, a namesake child is a new person without review: match.engine.spec.)
    const sister = await assign(margaret('k-c1', 'LAB-C', 'C1', { birthDate: '1971-09-30' }), 'review-1');
    const original = (await tx((repo) => repo.link('k-a1')))!.epid;
    assert.equal(sister.a.decision, 'review');
    assert.equal(sister.a.method, 'probabilistic-review');
    assert.notEqual(sister.a.epid, original, 'a provisional person, never a silent link');
    assert.deepEqual(sister.changes.map((c) => c.change.type), ['PERSON_CREATED', 'REVIEW_REQUIRED']);
    assert.equal(sister.changes[1].change.reviewItemId, 'review-1');
    const item = (await tx((repo) => repo.reviewItem('review-1')))!;
    assert.deepEqual([item.status, item.version, item.candidateEpid, item.provisionalEpid, item.candidateEpids], ['open', 1, original, sister.a.epid, [original]]);
    assert.ok(item.explanation!.candidates[0].blockedBy.includes('household-relative'), JSON.stringify(item.explanation!.candidates[0].blockedBy));
    assert.equal(item.explanation?.decision, 'review');
    assert.equal(item.explanation?.candidates[0].personId, original);

    await assert.rejects(tx((repo, changes) => index.decide(repo, 'review-1', 7, 'link', 'alice', changes)), (e: unknown) => e instanceof ReviewVersionConflictError && e.status === 412);
    // Two reviewers deciding the same version at once: exactly one wins, the other finds it decided (409).
    const outcomes = await Promise.allSettled([
      tx((repo, changes) => index.decide(repo, 'review-1', 1, 'link', 'alice', changes).then((r) => ({ r, changes: changes.changes }))),
      tx((repo, changes) => index.decide(repo, 'review-1', 1, 'separate', 'bob', changes).then((r) => ({ r, changes: changes.changes }))),
    ]);
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.filter((o) => o.status === 'rejected') as PromiseRejectedResult[];
    assert.equal(won.length, 1);
    assert.ok(lost[0].reason instanceof ReviewAlreadyDecidedError && lost[0].reason.status === 409, String(lost[0].reason));
    const decided = (await tx((repo) => repo.reviewItem('review-1')))!;
    assert.equal(decided.version, 2);
    const winner = (won[0] as PromiseFulfilledResult<{ changes: IdentityChangeLog['changes'] }>).value.changes.find((c) => c.change.type === 'REVIEW_RESOLVED')!.change;
    assert.equal(winner.reviewItemId, 'review-1');
    assert.equal(winner.resolution, decided.status === 'linked' ? 'linked' : 'kept-apart');
    // Deciding again with the current version: already decided → 409.
    await assert.rejects(tx((repo, changes) => index.decide(repo, 'review-1', 2, 'separate', 'carol', changes)), (e: unknown) => e instanceof ReviewAlreadyDecidedError && e.status === 409);
    const person = await tx((repo) => repo.person(sister.a.epid));
    if (decided.status === 'linked') {
      assert.deepEqual([person?.status, person?.mergedInto], ['merged', original]);
      assert.equal((await tx((repo) => repo.link('k-c1')))!.epid, original);
    } else {
      assert.equal(person?.status, 'active');
    }
  });

  it('makes one person of one new patient arriving at once on several tiers in separate transactions (repeated)', async () => {
    for (let round = 0; round < 6; round++) {
      const mrn = `CONC-${round}`;
      // Each round a different person; the four records of a round share one person key (address, phone, sex).
      const family = ['Quill', 'Rourke', 'Szabo', 'Tremblay', 'Ueda', 'Varga'][round];
      const given = ['HELENA', 'IGOR', 'JUNO', 'KASPAR', 'LIVIA', 'MATEO'][round];
      const dob = `19${60 + round * 5}0${round + 1}1${round}`;
      const messages: Array<[string, Tier]> = [
        [adtMessage({ controlId: `c${round}-a01`, mrn, trigger: 'A01', family, given, birthDate: dob, personKey: mrn }), 'urgent'],
        [adtMessage({ controlId: `c${round}-a08`, mrn, trigger: 'A08', family, given, birthDate: dob, personKey: mrn }), 'routine'],
        [oruMessage({ controlId: `c${round}-oru`, mrn, flag: 'HH', family, given, birthDate: dob, personKey: mrn }), 'stat'],
        // The same patient from a second source with its own MRN, same demographics.
        [adtMessage({ controlId: `c${round}-b01`, mrn: `OTHER-${round}`, sendingApplication: 'OTHEREHR', facility: 'OTHERHOSP', family, given, birthDate: dob, personKey: mrn }).replace('^^^TESTHOSP^MR', '^^^OTHERHOSP^MR'), 'bulk'],
      ];
      const outputs = await Promise.all(messages.map(([text, tier], i) => runHandler(text, tier, `ev-${round}-${i}`)));
      const epids = new Set(outputs.map((o) => o.identified.epid));
      assert.equal(epids.size, 1, `round ${round}: ${[...epids].join(', ')}`);
      assert.equal(outputs.filter((o) => o.identified.identity.personCreated).length, 1, `round ${round}: exactly one message created the person: ${JSON.stringify(outputs.map((o) => o.identified.identity))}`);
      const [{ n }] = await db.query('SELECT count(DISTINCT person_id)::int AS n FROM empi_record WHERE person_id = ANY($1)', [[...epids]]);
      assert.equal(n, 1);
    }
  });

  function ingestedEvent(text: string, tier: Tier, eventId: string, format: 'HL7V2' | 'FHIR_R4' = 'HL7V2'): InboundEvent<IngestedEvent> {
    const pid = /PID\|[^|]*\|[^|]*\|([^^|~]*)\^[^^|]*\^[^^|]*\^([^^|&]*)/.exec(text);
    const ingested: IngestedEvent = {
      eventId, correlationId: `corr-${eventId}`, receivedAt: Date.now(), tier, triageRule: 'test', source: { system: 'TEST', facility: '', channel: 'HTTP' },
      format, messageType: 'ADT^A01', controlId: eventId, version: '2.5.1', sourcePatientKey: pid ? sourcePatientKey(SECRET, pid[2], pid[1]) : '',
      patientIdentifiers: pid ? [{ system: pid[2], value: pid[1], type: 'MR' }] : [], contentType: 'x-application/hl7-v2+er7', raw: Buffer.from(text),
    };
    return { eventId, correlationId: ingested.correlationId, tier, topic: `clinical.ingested.${tier}`, partition: 0, offset: 0, key: ingested.sourcePatientKey, headers: {}, schemaId: 1, value: ingested };
  }

  /** As the consumer runs a chunk: one transaction, the chunk prepared (keys locked, plain messages assigned set-based), then each handled. */
  async function runChunk(events: Array<InboundEvent<IngestedEvent>>) {
    const out: Array<{ identified: IdentifiedEvent; identity: Array<{ key: string | null; value: IdentityEvent }>; emitted: OutgoingEvent[] }> = [];
    await inTransaction(db, async (uow) => {
      await handler.lockChunk(events, new PersonIndexRepository(uow));
      for (const event of events) {
        const emitted: OutgoingEvent[] = [];
        await handler.handle(event, eventContext(uow, originOf(event), emitted));
        const identified = emitted.find((e) => e.topic.startsWith('clinical.identified.'))!.value as IdentifiedEvent;
        out.push({ identified, identity: emitted.filter((e) => e.topic === 'clinical.identity.events').map((e) => ({ key: e.key, value: e.value as IdentityEvent })), emitted });
      }
    });
    return out;
  }

  async function runHandler(text: string, tier: Tier, eventId: string, format: 'HL7V2' | 'FHIR_R4' = 'HL7V2') {
    return (await runChunk([ingestedEvent(text, tier, eventId, format)]))[0];
  }

  it('a chunk is assigned set-based with the decisions of record-by-record matching: one new patient twice in one chunk is one person, a twin is not', async () => {
    const twinA = adtMessage({ controlId: 'ch-1', mrn: 'CH-1', family: 'OYELARAN', given: 'KEHINDE', birthDate: '20100304', personKey: 'CH-HOME' });
    const twinAAgain = adtMessage({ controlId: 'ch-2', mrn: 'CH-1', trigger: 'A08', family: 'OYELARAN', given: 'KEHINDE', birthDate: '20100304', personKey: 'CH-HOME' });
    const twinAOther = adtMessage({ controlId: 'ch-3', mrn: 'CHB-9', sendingApplication: 'OTHEREHR', facility: 'OTHERHOSP', family: 'OYELARAN', given: 'KEHINDE', birthDate: '20100304', personKey: 'CH-HOME' })
      .replace('^^^TESTHOSP^MR', '^^^OTHERHOSP^MR');
    const twinB = adtMessage({ controlId: 'ch-4', mrn: 'CH-2', family: 'OYELARAN', given: 'TAIWO', birthDate: '20100304', personKey: 'CH-HOME' });
    const out = await runChunk([ingestedEvent(twinA, 'routine', 'ch-e1'), ingestedEvent(twinAAgain, 'routine', 'ch-e2'), ingestedEvent(twinAOther, 'routine', 'ch-e3'), ingestedEvent(twinB, 'routine', 'ch-e4')]);
    const [a, again, other, b] = out.map((o) => o.identified);
    assert.equal(a.identity.personCreated, true);
    assert.deepEqual([again.epid, again.identity.personCreated], [a.epid, false]);
    assert.deepEqual([other.epid, other.identity.method], [a.epid, 'probabilistic']);
    assert.notEqual(b.epid, a.epid, 'the twin is another person');
    assert.equal(b.identity.personCreated, true);
    assert.deepEqual(out[0].identity.map((e) => e.value.type), ['PERSON_CREATED']);
    assert.deepEqual(out[2].identity.map((e) => e.value.type), ['RECORD_LINKED']);
    const link = await tx((repo) => repo.link(sourcePatientKey(SECRET, 'OTHERHOSP', 'CHB-9')));
    assert.equal(link?.explanation?.decision, 'link');
    const [{ n }] = await db.query('SELECT count(*)::int AS n FROM empi_key k JOIN empi_record r USING (record_id) WHERE r.person_id = $1 AND k.key = ANY(r.keys)', [a.epid]);
    assert.ok(n > 0, 'blocking keys written with the multi-row save');
  });

  it('applies ADT^A40 (real fixture): the MRG-1 record\'s person is merged into the PID person, announced keyed by the survivor; unmerge restores it', async () => {
    const a40 = readFileSync(join(FIXTURES, 'ADT-A40-01.hl7'), 'utf8');
    // The prior patient (MRG-1 56789^^^BCBS) known under another name and birth date, so nothing links it by matching.
    const prior = adtMessage({ controlId: 'prior-1', mrn: '56789', family: 'Formerly', given: 'KNOWNAS', birthDate: '20180101' }).replace('^^^TESTHOSP^MR', '^^^BCBS^MR');
    const p = await runHandler(prior, 'urgent', 'ev-a40-prior');
    const priorEpid = p.identified.epid;
    const survivorFirst = await runHandler(adtMessage({ controlId: 's-1', mrn: '12345', family: 'Test', given: 'Test', birthDate: '20180205' }).replace('^^^TESTHOSP^MR', '^^^BCBS^MR'), 'urgent', 'ev-a40-surv');
    const survivor = survivorFirst.identified.epid;
    assert.notEqual(priorEpid, survivor);

    const merged = await runHandler(a40, 'routine', 'ev-a40');
    assert.equal(merged.identified.epid, survivor);
    const event = merged.identity.find((e) => e.value.type === 'PERSONS_MERGED');
    assert.ok(event, JSON.stringify(merged.identity));
    assert.deepEqual([event.key, event.value.epid, event.value.otherEpid, event.value.method], [survivor, survivor, priorEpid, 'ADT^A40']);
    const priorKey = sourcePatientKey(SECRET, 'BCBS', '56789');
    assert.equal((await tx((repo) => repo.link(priorKey)))!.epid, survivor);
    assert.equal((await tx((repo) => repo.person(priorEpid)))!.status, 'merged');
    // Replaying the A40 changes nothing more.
    const replay = await runHandler(a40, 'routine', 'ev-a40');
    assert.equal(replay.identified.epid, survivor);
    assert.equal(replay.identity.length, 0);

    const restored = await tx(async (repo, changes) => ({ out: await index.unmerge(repo, survivor, [priorKey], 'op-1', changes), changes: changes.changes }));
    assert.deepEqual(restored.out, [{ epid: priorEpid, recordIds: [priorKey], restored: true }]);
    assert.deepEqual(restored.changes.map((c) => [c.change.type, c.change.epid, c.change.otherEpid]), [['PERSONS_UNMERGED', survivor, priorEpid]]);
    assert.equal((await tx((repo) => repo.person(priorEpid)))!.status, 'active');
    assert.equal((await tx((repo) => repo.link(priorKey)))!.epid, priorEpid);
    // A later message of the prior record goes to the restored person.
    const later = await runHandler(prior.replace('prior-1', 'prior-2'), 'routine', 'ev-a40-prior-2');
    assert.equal(later.identified.epid, priorEpid);
    await assert.rejects(tx((repo, changes) => index.unmerge(repo, survivor, [priorKey], 'op-2', changes)), { code: 'PERSON.UNMERGE.RECORD_NOT_IN_PERSON' });
    await assert.rejects(tx((repo, changes) => index.unmerge(repo, 'EPNOPE', ['x'], 'op-3', changes)), { code: 'PERSON.NOT_FOUND' });
  });

  it('ADT^A47 (real fixture): a new identifier joins the prior identifier\'s person instead of opening a new one', async () => {
    const prior = adtMessage({ controlId: 'a47-prior', mrn: 'MR102', family: 'EVERYMAN', given: 'ADAM', birthDate: '19610615' }).replace('^^^TESTHOSP^MR', '^^^BCBS^MR');
    const p = await runHandler(prior, 'urgent', 'ev-a47-prior');
    const a47 = readFileSync(join(FIXTURES, 'ADT-A47-01.hl7'), 'utf8');
    const out = await runHandler(a47, 'routine', 'ev-a47');
    assert.equal(out.identified.epid, p.identified.epid);
    assert.equal(out.identified.identity.method, 'identifier-change');
    assert.equal(out.identified.identity.personCreated, false);
  });

  it('gives a message without a patient epid "" and no identity events', async () => {
    const noPid = 'MSH|^~\\&|A|B|C|D|20260101000000||ADT^A01|np-1|P|2.5.1\rEVN|A01|20260101000000\r';
    const out = await runHandler(noPid, 'routine', 'ev-no-pid');
    assert.equal(out.identified.epid, '');
    assert.equal(out.identified.identity.method, 'none');
    assert.equal(out.identity.length, 0);
  });
});
