import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { sourcePatientKey } from '@clinmesh/security';
import { TestPipeline, adtMessage, oruMessage, waitFor } from '@clinmesh/testing';

const FIXTURES = join(__dirname, '..', '..', '..', '..', 'shared', 'fixtures', 'hl7v2');

/**
 * Issue #4 through the six real services: the EMPI links two sources' MRNs
 * to one EPID (seen on the tasks), applies an ADT^A40 merge and announces it
 * on clinical.identity.events, and serves persons / review / unmerge over
 * the authenticated, scoped API.
 */
describe('identity resolution end to end', { timeout: 600_000 }, () => {
  let pipeline: TestPipeline;
  const identityEvents: Array<{ key: string; value: Record<string, any> }> = [];
  let stopConsumer: (() => Promise<void>) | undefined;

  before(async () => {
    pipeline = await TestPipeline.start('identity');
    const registry = new SchemaRegistry({ host: pipeline.env.registryUrl, auth: pipeline.env.registryAuth });
    const consumer = pipeline.kafka().consumer({ groupId: `${pipeline.name}-identity-watch`, sessionTimeout: 6000, heartbeatInterval: 500 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'clinical.identity.events', fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => {
      identityEvents.push({ key: message.key!.toString(), value: await registry.decode(message.value!) });
    } });
    stopConsumer = () => consumer.disconnect();
  });
  after(async () => {
    await stopConsumer?.();
    await pipeline?.stop();
  });

  const epidOfTask = async (correlationId: string) => {
    const [task] = await waitFor(async () => { const t = await pipeline.tasks({ correlationId }); return t.length ? t : undefined; }, { what: `task for ${correlationId}`, timeoutMs: 120000 });
    return task.epid as string;
  };

  it('gives the same patient sent by two sources with different MRNs one EPID (on the tasks), with the link explained', async () => {
    const a = await pipeline.sendHl7(adtMessage({ controlId: 'ID-E2E-A', mrn: 'MRN-A-100', family: 'LINDQVIST', given: 'ASTRID', birthDate: '19720214' }));
    assert.equal(a.status, 200, a.ack);
    const epidA = await epidOfTask(a.messageId!);
    const b = await pipeline.sendHl7(adtMessage({ controlId: 'ID-E2E-B', mrn: 'B-7781', sendingApplication: 'CLINICB', facility: 'CLINB', family: 'LINDQVIST', given: 'ASTRID', birthDate: '19720214', personKey: 'MRN-A-100' })
      .replace('^^^TESTHOSP^MR', '^^^CLINB^MR'));
    assert.equal(b.status, 200, b.ack);
    const epidB = await epidOfTask(b.messageId!);
    assert.ok(epidA.startsWith('EP'));
    assert.equal(epidB, epidA);

    const person = await pipeline.request('identity-resolution', 'GET', `/v1/persons/${epidA}`);
    assert.equal(person.status, 200, person.text);
    const body = person.json();
    assert.equal(body.status, 'active');
    assert.deepEqual(body.records.map((r: any) => r.source).sort(), ['CLINICB', 'TESTEHR']);
    assert.ok(body.records.some((r: any) => r.identifiers.some((i: any) => i.system === 'CLINB' && i.value === 'B-7781' && i.type === 'MR')));
    const probabilistic = body.links.find((l: any) => l.method === 'probabilistic');
    assert.ok(probabilistic?.score >= 12, JSON.stringify(body.links));
    assert.ok(probabilistic.contributions.some((c: any) => c.field === 'birthDate' && c.level === 'exact'));
    // Why each record is on the person: the stored explanation (evidence per candidate record, thresholds, versions).
    const linked = body.records.find((r: any) => r.why?.method === 'probabilistic');
    assert.equal(linked.demographics.familyName, 'LINDQVIST');
    assert.equal(linked.why.explanation.decision, 'link');
    assert.ok(linked.why.explanation.parametersVersion && linked.why.explanation.frequencyVersion);
    assert.deepEqual(linked.why.explanation.thresholds, { upper: 12, lower: 4 });
    assert.ok(linked.why.explanation.candidates[0].records[0].contributions.some((c: any) => c.field === 'givenName' && c.level === 'exact'));

    const found = await pipeline.request('identity-resolution', 'GET', `/v1/persons?identifier=${encodeURIComponent('CLINB|B-7781')}`);
    assert.equal(found.status, 200, found.text);
    assert.deepEqual(found.json().persons.map((p: any) => p.epid), [epidA]);
    const [audit] = await pipeline.query('identity-resolution', `SELECT count(*)::int AS n FROM cm_audit WHERE action IN ('read-person', 'search-persons')`);
    assert.ok(audit.n >= 2, 'person reads are audited');
    await waitFor(() => identityEvents.find((e) => e.value.type === 'RECORD_LINKED' && e.key === epidA), { what: 'RECORD_LINKED event', timeoutMs: 60000 });
  });

  it('keeps one EPID when one new patient\'s A01 (urgent), A08 (routine) and critical ORU (stat) arrive at the same time', async () => {
    for (let round = 0; round < 3; round++) {
      const mrn = `MRN-CONC-${round}`;
      const family = ['OYELARAN', 'PETTERSEN', 'QUARSHIE'][round];
      const given = ['RUTH', 'SIGRID', 'TOMASZ'][round];
      const birthDate = ['19500606', '19631122', '19780430'][round];
      const sends = [
        adtMessage({ controlId: `CONC-${round}-A01`, mrn, trigger: 'A01', family, given, birthDate }),
        adtMessage({ controlId: `CONC-${round}-A08`, mrn, trigger: 'A08', family, given, birthDate }),
        oruMessage({ controlId: `CONC-${round}-ORU`, mrn, flag: 'HH', family, given, birthDate }),
      ];
      const results = await Promise.all(sends.map((m) => pipeline.sendHl7(m)));
      assert.deepEqual(results.map((r) => r.tier), ['urgent', 'routine', 'stat']);
      const key = sourcePatientKey(pipeline.env.patientKeySecret, 'TESTHOSP', mrn);
      const rows = await waitFor(async () => {
        const r = await pipeline.query('identity-resolution', `SELECT DISTINCT epid FROM ir_link WHERE record_id = $1`, [key]);
        return r.length ? r : undefined;
      }, { what: 'link of the concurrent patient' });
      assert.equal(rows.length, 1);
      const epids = new Set<string>();
      for (const r of results) epids.add(await epidOfTask(r.messageId!));
      assert.equal(epids.size, 1, `round ${round}: ${[...epids].join(', ')}`);
      assert.deepEqual([...epids], [rows[0].epid]);
      const created = identityEvents.filter((e) => e.value.type === 'PERSON_CREATED' && e.value.recordKey === key);
      assert.ok(created.length <= 1);
    }
  });

  it('merges on ADT^A40 and announces PERSONS_MERGED keyed by the surviving EPID; unmerge restores the prior person', async () => {
    const prior = await pipeline.sendHl7(adtMessage({ controlId: 'A40-PRIOR', mrn: '56789', family: 'OLDNAME', given: 'PRIORA', birthDate: '20170101' }).replace('^^^TESTHOSP^MR', '^^^BCBS^MR'));
    const survivor = await pipeline.sendHl7(adtMessage({ controlId: 'A40-SURV', mrn: '12345', family: 'Test', given: 'Test', birthDate: '20180205' }).replace('^^^TESTHOSP^MR', '^^^BCBS^MR'));
    const priorEpid = await epidOfTask(prior.messageId!);
    const survivorEpid = await epidOfTask(survivor.messageId!);
    assert.notEqual(priorEpid, survivorEpid);
    const a40 = await pipeline.sendHl7(readFileSync(join(FIXTURES, 'ADT-A40-01.hl7'), 'utf8'));
    assert.equal(a40.status, 200, a40.ack);
    const merged = await waitFor(() => identityEvents.find((e) => e.value.type === 'PERSONS_MERGED' && e.value.otherEpid === priorEpid), { what: 'PERSONS_MERGED', timeoutMs: 120000 });
    assert.equal(merged.key, survivorEpid);
    assert.equal(merged.value.epid, survivorEpid);
    assert.equal(merged.value.method, 'ADT^A40');
    const retired = (await pipeline.request('identity-resolution', 'GET', `/v1/persons/${priorEpid}`)).json();
    assert.deepEqual([retired.status, retired.mergedInto], ['merged', survivorEpid]);

    const priorKey = sourcePatientKey(pipeline.env.patientKeySecret, 'BCBS', '56789');
    const weak = await fetch(`${pipeline.urls['identity-resolution']}/v1/persons/${survivorEpid}/unmerge`, {
      method: 'POST', headers: { authorization: `Bearer ${await pipeline.token(['persons:read'])}`, 'content-type': 'application/json' }, body: JSON.stringify({ recordIds: [priorKey] }),
    });
    assert.equal(weak.status, 403, 'unmerge needs persons:write');
    const unmerge = await pipeline.request('identity-resolution', 'POST', `/v1/persons/${survivorEpid}/unmerge`, { recordIds: [priorKey] });
    assert.equal(unmerge.status, 200, unmerge.text);
    assert.deepEqual(unmerge.json().persons, [{ epid: priorEpid, recordIds: [priorKey], restored: true }]);
    await waitFor(() => identityEvents.find((e) => e.value.type === 'PERSONS_UNMERGED' && e.key === survivorEpid && e.value.otherEpid === priorEpid), { what: 'PERSONS_UNMERGED', timeoutMs: 60000 });
    assert.equal((await pipeline.request('identity-resolution', 'GET', `/v1/persons/${priorEpid}`)).json().status, 'active');
  });

  it('queues an uncertain match for review, shows it side by side; a stale If-Match answers 412, a decided item 409, a current one links', async () => {
    const first = await pipeline.sendHl7(adtMessage({ controlId: 'RV-1', mrn: 'RV-100', family: 'ABERNATHY', given: 'COLETTE', birthDate: '19660909' }));
    const firstEpid = await epidOfTask(first.messageId!);
    // Same name, address and phone, a birth date three years off: a relative or one person with a wrong birth date.
    // Relatives sharing an address and surname never auto-link (rule household-relative): a review item.
    const second = await pipeline.sendHl7(adtMessage({ controlId: 'RV-2', mrn: 'RV-200', sendingApplication: 'CLINICB', family: 'ABERNATHY', given: 'COLETTE', birthDate: '19690101', personKey: 'RV-100' })
      .replace('^^^TESTHOSP^MR', '^^^CLINB^MR'));
    const secondEpid = await epidOfTask(second.messageId!);
    assert.notEqual(secondEpid, firstEpid, 'never a silent link below the upper threshold');

    const anonymous = await fetch(`${pipeline.urls['identity-resolution']}/v1/review-items`);
    assert.equal(anonymous.status, 401);
    const items = await waitFor(async () => {
      const r = await pipeline.request('identity-resolution', 'GET', '/v1/review-items');
      return r.json().items.find((i: any) => i.provisionalEpid === secondEpid);
    }, { what: 'review item' });
    assert.equal(items.candidateEpid, firstEpid);
    assert.equal(items.version, 1);
    const view = await pipeline.request('identity-resolution', 'GET', `/v1/review-items/${items.id}`);
    assert.equal(view.status, 200, view.text);
    assert.equal(view.headers.get('etag'), '"1"');
    assert.match(view.json().record.demographics.birthDate, /^1969-?01-?01/);
    assert.ok(view.json().candidates[0].evidence.blockedBy.some((b: string) => b.includes('household-relative')), JSON.stringify(view.json().candidates[0].evidence));
    assert.equal(view.json().candidates[0].epid, firstEpid);
    assert.equal(view.json().candidates[0].records[0].demographics.familyName, 'ABERNATHY');
    assert.ok(view.json().candidates[0].evidence.records[0].contributions.length > 0, 'the same evidence, side by side');
    assert.deepEqual(view.json().explanation.thresholds, { upper: 12, lower: 4 });
    const stale = await pipeline.request('identity-resolution', 'POST', `/v1/review-items/${items.id}/decision`, { decision: 'link' }, { 'if-match': '"99"' });
    assert.equal(stale.status, 412);
    assert.match(stale.headers.get('content-type') ?? '', /application\/problem\+json/);
    assert.equal(stale.json().code, 'REVIEW.VERSION_MISMATCH');
    const ok = await pipeline.request('identity-resolution', 'POST', `/v1/review-items/${items.id}/decision`, { decision: 'link' }, { 'if-match': view.headers.get('etag')! });
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual([ok.json().status, ok.json().version, ok.json().survivor], ['linked', 2, firstEpid]);
    const again = await pipeline.request('identity-resolution', 'POST', `/v1/review-items/${items.id}/decision`, { decision: 'separate' }, { 'if-match': '"1"' });
    assert.equal(again.status, 409);
    assert.equal(again.json().code, 'REVIEW.ALREADY_DECIDED');
    await waitFor(() => identityEvents.find((e) => e.value.type === 'REVIEW_RESOLVED' && e.value.reviewItemId === items.id && e.value.resolution === 'linked'), { what: 'REVIEW_RESOLVED event' });
    await waitFor(() => identityEvents.find((e) => e.value.type === 'PERSONS_MERGED' && e.key === firstEpid && e.value.otherEpid === secondEpid), { what: 'review merge event' });
    await waitFor(() => identityEvents.find((e) => e.value.type === 'REVIEW_REQUIRED' && e.key === secondEpid && e.value.reviewItemId === items.id), { what: 'REVIEW_REQUIRED event' });
    const missing = await pipeline.request('identity-resolution', 'GET', '/v1/persons/EPDOESNOTEXIST');
    assert.equal(missing.status, 404);
    assert.equal(missing.json().code, 'PERSON.NOT_FOUND');
  });

  it('refreshes the name frequencies from the index on an operator\'s command (admin:operate, audited); links scored afterwards name the new snapshot', async () => {
    const refresh = (token?: string) => pipeline.request('identity-resolution', 'POST', '/v1/admin/identity/name-frequencies/refresh', {}, {}, token);
    assert.equal((await refresh(await pipeline.token(['persons:read'], 'reader'))).status, 403);
    const done = await refresh();
    assert.equal(done.status, 200, done.text);
    const snapshot = done.json();
    const [{ stored }] = await pipeline.query('identity-resolution', 'SELECT count(*)::int AS stored FROM empi_record');
    assert.equal(snapshot.records, stored);
    assert.match(snapshot.version, new RegExp(`^index-.+-n${stored}$`));
    // The stored snapshot counts the index's names: LINDQVIST is on the two records of the first test.
    const [row] = await pipeline.query('identity-resolution', 'SELECT version, total, given, family FROM empi_frequency_snapshot ORDER BY created_at DESC, version DESC LIMIT 1');
    assert.deepEqual([row.version, Number(row.total)], [snapshot.version, stored]);
    const lindqvist = Object.entries(row.family as Record<string, number>).filter(([name]) => name.toUpperCase() === 'LINDQVIST');
    assert.deepEqual(lindqvist.map(([, n]) => n), [2]);
    assert.equal(Object.keys(row.given).length, snapshot.givenNames);
    const audit = await pipeline.query('identity-resolution', `SELECT outcome, details->>'version' AS version FROM cm_audit WHERE action = 'refresh-name-frequencies'`);
    assert.deepEqual(audit.map((a) => `${a.outcome}:${a.version}`), [`allowed:${snapshot.version}`]);

    // Scored from now on with this snapshot, and the explanation says so.
    const a = await pipeline.sendHl7(adtMessage({ controlId: 'TF-A', mrn: 'TF-100', family: 'OYELARAN', given: 'TEMITOPE', birthDate: '19810523' }));
    const epid = await epidOfTask(a.messageId!);
    const b = await pipeline.sendHl7(adtMessage({ controlId: 'TF-B', mrn: 'TF-7781', sendingApplication: 'CLINICB', facility: 'CLINB', family: 'OYELARAN', given: 'TEMITOPE', birthDate: '19810523', personKey: 'TF-100' })
      .replace('^^^TESTHOSP^MR', '^^^CLINB^MR'));
    assert.equal(await epidOfTask(b.messageId!), epid);
    const person = await pipeline.request('identity-resolution', 'GET', `/v1/persons/${epid}`);
    const linked = person.json().records.find((r: any) => r.why?.method === 'probabilistic');
    assert.equal(linked?.why.explanation.frequencyVersion, snapshot.version, JSON.stringify(person.json().records.map((r: any) => r.why)));
  });
});
