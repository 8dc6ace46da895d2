import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { TIERS } from '@clinmesh/topology';
import { TestPipeline, WebhookReceiver, adtMessage, demographicsFor, sumSamples, waitFor } from '@clinmesh/testing';

const MRN_SYSTEM = 'urn:oid:2.16.840.1.113883.3.9999.1';
const AUDIENCE_SYSTEM = 'https://clinmesh.example/fhir/CodeSystem/audience';

/** An ORU^R01 with the given OBX results (LOINC), for a patient known by MRN. */
function oru(controlId: string, mrn: string, results: Array<{ code: string; display: string; value: string; type?: string; flag?: string }>): string {
  const d = demographicsFor(mrn);
  return [
    `MSH|^~\\&|TESTLAB|TESTHOSP|CLINMESH|CLINMESH|20261121083000+0000||ORU^R01^ORU_R01|${controlId}|P|2.5.1`,
    `PID|1||${mrn}^^^TESTHOSP^MR||${d.family}^${d.given}^Q||${d.birthDate}|${d.sex}`,
    'OBR|1|ORD123|FIL456|24323-8^Comprehensive metabolic panel^LN|||20261121070000+0000',
    ...results.map((r, i) => `OBX|${i + 1}|${r.type ?? 'NM'}|${r.code}^${r.display}^LN||${r.value}|${r.type === 'ST' ? '' : 'mg/dL'}||${r.flag ?? 'N'}|||F|||20261121075500+0000`),
  ].join('\r') + '\r';
}

const GLUCOSE = { code: '2345-7', display: 'Glucose', value: '95' };
const HIV = { code: '7917-8', display: 'HIV 1 Ab', value: 'Positive', type: 'ST' };

function consent(mrn: string, provision: Record<string, unknown>, status = 'active'): Record<string, unknown> {
  return {
    resourceType: 'Consent', status,
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { identifier: { system: MRN_SYSTEM, value: mrn } },
    dateTime: '2026-11-28T10:00:00Z',
    provision,
  };
}
const actor = (audience: string) => ({ role: { coding: [{ system: AUDIENCE_SYSTEM, code: audience }] }, reference: { reference: `Group/${audience}` } });

interface Seen { topic: string; key: string | null; value: Record<string, any> }

/**
 * Issue 11 end to end: consents, sensitive data, minimum necessary, break-glass,
 * shadow mode and bad input, asserted on the topics policy publishes
 * (clinical.routed.*, clinical.deidentified.*, clinical.policy.*) and its API,
 * with the six real services on the embedded platform.
 */
describe('policy: consent, sensitivity, minimum necessary, break-glass, shadow mode', { timeout: 900_000 }, () => {
  let pipeline: TestPipeline;
  const seen: Seen[] = [];
  let stopConsumer: (() => Promise<void>) | undefined;
  const receivers: WebhookReceiver[] = [];

  const routed = (correlationId: string) => seen.filter((s) => s.topic.startsWith('clinical.routed.') && s.value.correlationId === correlationId);
  const deidentified = (correlationId: string) => seen.filter((s) => s.topic.startsWith('clinical.deidentified.') && s.value.correlationId === correlationId);
  const policyEvents = (kind: string) => seen.filter((s) => s.topic === 'clinical.policy.events' && s.value.kind === kind);
  const decisionEvents = (correlationId: string) => seen.filter((s) => s.topic === 'clinical.policy.decisions' && s.value.correlationId === correlationId);
  const audiencesOf = (correlationId: string) => routed(correlationId).map((r) => r.value.audience as string).sort();

  /**
   * A request, retried once when the socket was reset before any answer: the keep-alive race
   * (the server closed an idle connection the client reused) — the server never read it, so
   * sending it again cannot apply it twice.
   */
  const request = async (...args: Parameters<TestPipeline['request']>): ReturnType<TestPipeline['request']> => {
    try {
      return await pipeline.request(...args);
    } catch (e) {
      if ((e as { cause?: { code?: string } }).cause?.code !== 'ECONNRESET') throw e;
      return pipeline.request(...args);
    }
  };
  const send = async (message: string): Promise<string> => {
    const r = await request('ingest', 'POST', '/v1/hl7v2', message, { 'content-type': 'x-application/hl7-v2+er7' });
    const messageId = r.headers.get('x-clinmesh-message-id');
    assert.equal(r.status, 200, r.text);
    return messageId!;
  };
  /** All decisions of a message are recorded in one transaction: wait for them, then for the routed views they announce. */
  const decided = async (correlationId: string, audiences = 4) => {
    const decisions = await waitFor(async () => {
      const r = await request('policy', 'GET', `/v1/decisions?correlationId=${encodeURIComponent(correlationId)}`);
      const list = r.json().decisions as Array<Record<string, any>>;
      return list.length >= audiences ? list : undefined;
    }, { what: `decisions for ${correlationId}`, timeoutMs: 120_000 });
    const released = decisions.filter((d) => d.effect !== 'DENY');
    await waitFor(() => routed(correlationId).length + deidentified(correlationId).length === released.length, { what: `routed views of ${correlationId}`, timeoutMs: 60_000 });
    await waitFor(() => decisionEvents(correlationId).filter((d) => !d.value.shadow).length === decisions.length, { what: `decision events of ${correlationId}`, timeoutMs: 60_000 });
    return Object.fromEntries(decisions.map((d) => [d.audience, d]));
  };
  const admit = async (controlId: string, mrn: string) => {
    const id = await send(adtMessage({ controlId, mrn }));
    await decided(id, 3);
    return id;
  };

  before(async () => {
    pipeline = await TestPipeline.start('policy', { perService: { policy: { POLICY_BREAK_GLASS_TIMER_MS: '200', POLICY_HELD_VIEW_TIMER_MS: '200', POLICY_VERSION_FOLLOW_MS: '200', POLICY_BREAK_GLASS_MAX_SECONDS: '3600' } } });
    const registry = new SchemaRegistry({ host: pipeline.env.registryUrl, auth: pipeline.env.registryAuth });
    const consumer = pipeline.kafka().consumer({ groupId: `${pipeline.name}-policy-watch`, sessionTimeout: 6000, heartbeatInterval: 500, maxWaitTimeInMs: 100 });
    await consumer.connect();
    const topics = [...TIERS.flatMap((t) => [`clinical.routed.${t}`, `clinical.deidentified.${t}`]), 'clinical.policy.events', 'clinical.policy.decisions'];
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ topic, message }) => {
      seen.push({ topic, key: message.key?.toString() ?? null, value: await registry.decode(message.value!) });
    } });
    stopConsumer = () => consumer.disconnect();
  });
  after(async () => {
    for (const r of receivers) await r.stop();
    await stopConsumer?.();
    await pipeline?.stop();
  });

  it('publishes one routed view per permitted audience: scheduling without diagnoses, results or MRN; analytics de-identified', async () => {
    const mrn = 'MRN-POL-MIN';
    const adt = adtMessage({ controlId: 'POL-MIN-ADT', mrn }).replace(/\r$/, '\rDG1|1||E11.9^Type 2 diabetes mellitus without complications^I10||20261120|A\r');
    const admission = await send(adt);
    const decisions = await decided(admission, 3);
    assert.deepEqual(audiencesOf(admission), ['care-coordination', 'integration-subscribers', 'scheduling']);
    const coord = routed(admission).find((r) => r.value.audience === 'care-coordination')!.value;
    const sched = routed(admission).find((r) => r.value.audience === 'scheduling')!.value;
    assert.equal(coord.canonical.records.conditions.length, 1, 'care coordination sees the diagnosis');
    assert.equal(sched.projection, 'scheduling');
    assert.equal(sched.decisionId, decisions.scheduling.decisionId);
    assert.deepEqual(sched.decision.workflows, coord.decision.workflows, 'workflows decided per event: the same on every copy');
    assert.deepEqual(sched.decision.audiences.sort(), ['care-coordination', 'integration-subscribers', 'scheduling']);
    assert.notEqual(sched.eventId, coord.eventId, 'one event id per audience');
    const p = sched.canonical.records.patients[0];
    assert.ok(p.names[0].family, 'the patient name stays');
    assert.ok(p.telecoms.length, 'the phone stays');
    assert.deepEqual(p.identifiers, [], 'no MRN');
    assert.equal(sched.canonical.records.conditions.length, 0, 'no diagnoses');
    assert.equal(sched.canonical.records.observations.length, 0, 'no results');
    const text = JSON.stringify(sched);
    for (const absent of [mrn, 'E11.9', 'diabetes']) assert.ok(!text.includes(absent), `${absent} absent from the scheduling view`);

    const result = await send(oru('POL-MIN-ORU', mrn, [GLUCOSE]));
    await decided(result);
    assert.deepEqual(audiencesOf(result), ['care-coordination', 'care-team', 'integration-subscribers']);
    const [research] = deidentified(result);
    assert.equal(research.value.audience, 'research');
    assert.equal(research.value.deidentified, true);
    assert.match(research.value.epid, /^psn-/);
    assert.equal(research.key, research.value.epid, 'keyed by the pseudonym');
    const d = demographicsFor(mrn);
    // The mapping version names the terminology release date, not a date about the patient.
    const analytics = JSON.stringify(research.value.canonical).replace(/"mappingVersion":"[^"]*"/g, '');
    for (const identifier of [mrn, d.family, d.given, d.phone, coord.epid, '20261121', '2026-11-21', 'POL-MIN-ORU']) assert.ok(!analytics.includes(identifier), `${identifier} absent from the analytics view`);
    assert.equal(research.value.canonical.records.observations[0].code.codings[0].code, '2345-7', 'the result itself is there');
  });

  it('a consent denies audience A for a patient: A gets nothing for that patient while B does; after revocation A gets the next event', async () => {
    const [a, b] = ['MRN-POL-C1', 'MRN-POL-C2'];
    // Subscribers of audience A (care coordination) and B (care team), bound through the notifier.
    const hooks: Record<string, WebhookReceiver> = {};
    for (const audience of ['care-coordination', 'care-team']) {
      const receiver = new WebhookReceiver('unused-until-the-notifier-answers');
      await receiver.start();
      const sub = await request('notifier', 'POST', '/v1/subscriptions', { url: receiver.url, audience, purposeOfUse: 'TREAT', events: ['routed'], name: `policy-e2e-${audience}` });
      assert.equal(sub.status, 201, sub.text);
      receiver.useSecret(sub.json().secret);
      hooks[audience] = receiver;
      receivers.push(receiver);
    }
    const admissionA = await admit('POL-C-ADT-A', a);
    await admit('POL-C-ADT-B', b);
    const created = await request('policy', 'POST', '/v1/consents', consent(a, { type: 'permit', provision: [{ type: 'deny', actor: [actor('care-coordination')] }] }));
    assert.equal(created.status, 201, created.text);
    const c = created.json();
    assert.equal(c.state, 'applied');
    assert.equal(created.headers.get('etag'), '"1"');
    // The admission already released to care coordination is withdrawn (the notifier cancels what is pending under it).
    const admissionDecision = (await decided(admissionA, 3))['care-coordination'];
    const revoked = await waitFor(() => policyEvents('DECISION_REVOKED').find((e) => e.value.subjectId === admissionDecision.decisionId), { what: 'DECISION_REVOKED for the admission', timeoutMs: 60_000 });
    assert.equal(revoked.value.audience, 'care-coordination');
    assert.equal(revoked.value.details.consentId, c.id);

    const [ra, rb] = [await send(oru('POL-C-ORU-A1', a, [GLUCOSE])), await send(oru('POL-C-ORU-B1', b, [GLUCOSE]))];
    const da = await decided(ra);
    await decided(rb);
    assert.deepEqual(audiencesOf(ra), ['care-team', 'integration-subscribers'], 'A (care coordination) gets nothing for this patient');
    assert.deepEqual(audiencesOf(rb), ['care-coordination', 'care-team', 'integration-subscribers'], 'while it does for the other');
    assert.equal(da['care-coordination'].effect, 'DENY');
    assert.equal(da['care-coordination'].consentId, c.id);
    assert.equal(da['care-coordination'].consentProvision, 'Consent.provision.provision[0]');
    assert.equal(da['care-coordination'].consentDecision, 'CONSENT_DENY');
    assert.match(da['care-coordination'].reason, /denies care-coordination/);
    assert.equal(da['care-team'].consentDecision, 'CONSENT_PERMIT');
    // At the subscriber: B's webhook gets A's patient, A's webhook gets the other patient — and never A's patient.
    const deliveredToB = await waitFor(() => hooks['care-team'].byCorrelation(ra)[0], { what: 'care-team webhook for the consenting patient', timeoutMs: 120_000 });
    assert.equal(deliveredToB.signatureValid, true);
    await waitFor(() => hooks['care-coordination'].byCorrelation(rb)[0], { what: 'care-coordination webhook for the other patient', timeoutMs: 120_000 });
    assert.equal(hooks['care-coordination'].byCorrelation(ra).length, 0, 'nothing for the patient who denied care coordination');

    const listed = await request('policy', 'GET', `/v1/consents?patient=${encodeURIComponent(`${MRN_SYSTEM}|${a}`)}`);
    assert.equal(listed.json().consents[0].id, c.id);
    const stale = await request('policy', 'PUT', `/v1/consents/${c.id}`, { ...consent(a, c.resource.provision, 'inactive') }, { 'if-match': '"7"' });
    assert.equal(stale.status, 412);
    const revoke = await request('policy', 'PUT', `/v1/consents/${c.id}`, { ...consent(a, c.resource.provision, 'inactive') }, { 'if-match': '"1"' });
    assert.equal(revoke.status, 200, revoke.text);
    assert.equal(revoke.json().state, 'revoked');
    await waitFor(() => policyEvents('CONSENT_REVOKED').find((e) => e.value.subjectId === c.id), { what: 'CONSENT_REVOKED' });
    const ra2 = await send(oru('POL-C-ORU-A2', a, [GLUCOSE]));
    await decided(ra2);
    assert.deepEqual(audiencesOf(ra2), ['care-coordination', 'care-team', 'integration-subscribers'], 'after revocation A gets the next event');
    const afterRevocation = await waitFor(() => hooks['care-coordination'].byCorrelation(ra2)[0], { what: 'care-coordination webhook after revocation', timeoutMs: 120_000 });
    assert.equal((afterRevocation.body as { audience: string }).audience, 'care-coordination');

    // A consent for a patient policy has not seen yet is pending, and applies when the patient appears.
    const pending = await request('policy', 'POST', '/v1/consents', consent('MRN-POL-LATER', { type: 'permit' }));
    assert.equal(pending.json().state, 'pending');
    await send(adtMessage({ controlId: 'POL-LATER-ADT', mrn: 'MRN-POL-LATER' }));
    await waitFor(() => policyEvents('CONSENT_APPLIED').find((e) => e.value.subjectId === pending.json().id), { what: 'CONSENT_APPLIED', timeoutMs: 120_000 });
    const applied = await request('policy', 'GET', `/v1/consents/${pending.json().id}`);
    assert.equal(applied.json().state, 'applied');
  });

  it('labels an HIV result and withholds it from audiences without permission; the decision names the rule and the label', async () => {
    const mrn = 'MRN-POL-HIV';
    await admit('POL-HIV-ADT', mrn);
    const id = await send(oru('POL-HIV-ORU', mrn, [GLUCOSE, HIV]));
    const d = await decided(id);
    assert.deepEqual(d['care-team'].labels, ['HIV']);
    assert.equal(d['care-team'].effect, 'PERMIT', 'the treating team sees it');
    const coord = d['care-coordination'];
    assert.equal(coord.effect, 'REDACT');
    assert.deepEqual(coord.withheldLabels, ['HIV']);
    assert.ok(coord.ruleIds.includes('forbid-hiv-outside-treating-team'), coord.ruleIds.join(','));
    assert.match(coord.reason, /HIV withheld by forbid-hiv-outside-treating-team/);
    assert.equal(d['integration-subscribers'].effect, 'DENY', 'deny-on-withheld audiences get nothing');
    assert.deepEqual(audiencesOf(id), ['care-coordination', 'care-team']);
    const view = routed(id).find((r) => r.value.audience === 'care-coordination')!.value;
    assert.equal(view.effect, 'REDACT');
    assert.deepEqual(view.canonical.records.observations.map((o: { code: { codings: Array<{ code: string }> } }) => o.code.codings[0].code), ['2345-7'], 'the HIV result is not in the view');
    assert.ok(!JSON.stringify(view.canonical).includes('7917-8'));
    const team = routed(id).find((r) => r.value.audience === 'care-team')!.value;
    assert.equal(team.canonical.records.observations.length, 2);
    assert.deepEqual(team.labels, ['HIV']);
    const audit = decisionEvents(id).find((e) => e.value.audience === 'care-coordination')!.value;
    assert.deepEqual(audit.withheldLabels, ['HIV']);
    assert.equal(audit.decisionId, coord.decisionId);
  });

  it('break-glass grants time-boxed access over a consent deny, audited with purpose BTG; after expiry the deny holds again', async () => {
    const mrn = 'MRN-POL-BTG';
    await admit('POL-BTG-ADT', mrn);
    const c = await request('policy', 'POST', '/v1/consents', consent(mrn, { type: 'permit', provision: [{ type: 'deny', actor: [actor('care-team')] }] }));
    assert.equal(c.json().state, 'applied');
    const before = await send(oru('POL-BTG-ORU-1', mrn, [GLUCOSE]));
    assert.equal((await decided(before))['care-team'].effect, 'DENY');
    const grant = await request('policy', 'POST', '/v1/break-glass', { patient: `${MRN_SYSTEM}|${mrn}`, audience: 'care-team', reason: 'unconscious patient in the emergency department', durationSeconds: 30 });
    assert.equal(grant.status, 201, grant.text);
    const g = grant.json();
    const granted = await waitFor(() => policyEvents('BREAK_GLASS_GRANTED').find((e) => e.value.subjectId === g.id), { what: 'BREAK_GLASS_GRANTED' });
    assert.equal(granted.value.audience, 'care-team');
    assert.match(granted.value.reason, /emergency/);
    assert.ok(granted.value.expiresAt);
    // The task service opens its after-the-fact review from BREAK_GLASS_GRANTED.
    const review = await waitFor(async () => (await pipeline.tasks({ workflow: 'break-glass-review', patient: g.epid })).find((t) => JSON.stringify(t).includes(g.id)), { what: 'break-glass review task', timeoutMs: 120_000 });
    assert.equal(review.epid, g.epid);
    const during = await send(oru('POL-BTG-ORU-2', mrn, [GLUCOSE]));
    const dd = await decided(during);
    assert.equal(dd['care-team'].effect, 'PERMIT');
    assert.equal(dd['care-team'].purpose, 'BTG');
    assert.equal(dd['care-team'].grantId, g.id);
    const view = routed(during).find((r) => r.value.audience === 'care-team')!.value;
    assert.equal(view.purposeOfUse, 'BTG');
    assert.equal(decisionEvents(during).find((e) => e.value.audience === 'care-team')!.value.breakGlassGrantId, g.id);
    await waitFor(() => policyEvents('BREAK_GLASS_EXPIRED').find((e) => e.value.subjectId === g.id), { what: 'BREAK_GLASS_EXPIRED', timeoutMs: 90_000 });
    const afterExpiry = await send(oru('POL-BTG-ORU-3', mrn, [GLUCOSE]));
    const da = await decided(afterExpiry);
    assert.equal(da['care-team'].effect, 'DENY', 'the deny holds again');
    assert.equal(da['care-team'].grantId, null);
    assert.ok(!audiencesOf(afterExpiry).includes('care-team'));
    const disclosures = await request('policy', 'GET', `/v1/disclosures?patient=${encodeURIComponent(`${MRN_SYSTEM}|${mrn}`)}`);
    assert.equal(disclosures.status, 200);
    const btg = disclosures.json().disclosures.find((x: Record<string, unknown>) => x.breakGlassGrantId === g.id);
    assert.equal(btg.purposeOfUse, 'BTG');
    assert.equal(btg.audience, 'care-team');
  });

  it('refuses bad input with specific errors', async () => {
    const invalid = await request('policy', 'POST', '/v1/consents', { resourceType: 'Consent', status: 'sometimes', patient: { identifier: { system: MRN_SYSTEM } }, provision: { type: 'allow' } });
    assert.equal(invalid.status, 422);
    assert.match(invalid.headers.get('content-type') ?? '', /fhir\+json/);
    const outcome = invalid.json();
    assert.equal(outcome.resourceType, 'OperationOutcome');
    const where = outcome.issue.map((i: { expression: string[] }) => i.expression[0]);
    for (const e of ['Consent.status', 'Consent.scope', 'Consent.category', 'Consent.patient.identifier', 'Consent.provision.type']) assert.ok(where.includes(e), `${e} in ${where}`);

    const unknownAudience = await request('policy', 'POST', '/v1/consents', consent('MRN-POL-MIN', { type: 'deny', actor: [actor('marketing')] }));
    assert.equal(unknownAudience.status, 422);
    assert.ok(unknownAudience.json().issue.some((i: { diagnostics: string }) => /unknown audience "marketing"/.test(i.diagnostics)));
    const btgAudience = await request('policy', 'POST', '/v1/break-glass', { patient: `${MRN_SYSTEM}|MRN-POL-MIN`, audience: 'marketing', reason: 'looking for trouble here', durationSeconds: 60 });
    assert.equal(btgAudience.status, 422);
    assert.equal(btgAudience.json().code, 'POLICY.UNKNOWN_AUDIENCE');

    const expired = await request('policy', 'POST', '/v1/break-glass', { patient: `${MRN_SYSTEM}|MRN-POL-MIN`, audience: 'care-team', reason: 'emergency in the ward', expiresAt: '2020-01-01T00:00:00Z' });
    assert.equal(expired.status, 422);
    assert.equal(expired.json().code, 'POLICY.BREAK_GLASS_EXPIRED');
    const tooLong = await request('policy', 'POST', '/v1/break-glass', { patient: `${MRN_SYSTEM}|MRN-POL-MIN`, audience: 'care-team', reason: 'emergency in the ward', durationSeconds: 86_400 });
    assert.equal(tooLong.status, 422);
    assert.equal(tooLong.json().code, 'POLICY.BREAK_GLASS_TOO_LONG');

    const current = await request('policy', 'GET', '/v1/policy');
    const etag = current.headers.get('etag')!;
    const broken = await request('policy', 'PUT', '/v1/policy', {
      version: 'broken', defaultWorkflow: 'x', critical: { interpretationCodes: ['HH'] }, audiences: { a: { description: 'a', purposeOfUse: 'SHOPPING', projection: 'p', onWithheld: 'deny' } },
      projections: {}, routing: [{ id: 'r', description: 'r', when: {}, then: { audiences: ['nobody'], escalateTo: 'later' } }], rules: [], valueSets: [], colour: 'blue',
    }, { 'if-match': etag });
    assert.equal(broken.status, 422);
    const problem = broken.json();
    assert.equal(problem.code, 'POLICY.INVALID_POLICY');
    const paths = problem.errors.map((e: { path: string }) => e.path);
    for (const p of ['/audiences/a/purposeOfUse', '/projections', '/routing/0/then/escalateTo']) assert.ok(paths.includes(p), `${p} in ${paths}`);
    assert.ok(problem.errors.some((e: { message: string }) => /colour/.test(e.message)), 'every problem listed at once');
    assert.equal((await request('policy', 'GET', '/v1/policy')).headers.get('etag'), etag, 'the active version is unchanged');

    // Each refusal is counted and kept with its reason.
    assert.ok(await pipeline.metric('policy', 'clinmesh_policy_rejections_total', { kind: 'consent', code: 'POLICY.CONSENT_INVALID' }) >= 2);
    assert.equal(await pipeline.metric('policy', 'clinmesh_policy_rejections_total', { kind: 'break-glass', code: 'POLICY.BREAK_GLASS_TOO_LONG' }), 1);
    const kept = await pipeline.query('policy', `SELECT kind, code, issues FROM pl_rejection WHERE code = 'POLICY.INVALID_POLICY'`);
    assert.equal(kept.length, 1);
    assert.ok((kept[0].issues as unknown[]).length >= 4, 'kept with every problem');
  });

  it('shadow mode: a candidate that would change routing reports a diff and changes no delivery; promoted, it applies without restart', async () => {
    const active = (await request('policy', 'GET', '/v1/policy')).json().active;
    const document = (await pipeline.query('policy', `SELECT document FROM pl_policy_version WHERE version = $1`, [active.version]))[0].document;
    const candidate = structuredClone(document);
    candidate.version = `${active.version}-candidate`;
    const results = candidate.routing.find((r: { id: string }) => r.id === 'result-review');
    results.then.audiences = results.then.audiences.filter((a: string) => a !== 'care-coordination');
    const loaded = await request('policy', 'POST', '/v1/policy/shadow', candidate);
    assert.equal(loaded.status, 201, loaded.text);
    const mrn = 'MRN-POL-SHADOW';
    await admit('POL-SH-ADT', mrn);
    const id = await send(oru('POL-SH-ORU', mrn, [GLUCOSE]));
    await decided(id);
    assert.deepEqual(audiencesOf(id), ['care-coordination', 'care-team', 'integration-subscribers'], 'the candidate changes no delivery');
    const diff = await waitFor(async () => {
      const r = (await request('policy', 'GET', '/v1/policy/shadow/diff')).json();
      return r.items?.find((i: { correlationId: string }) => i.correlationId === id) ? r : undefined;
    }, { what: 'shadow diff' });
    const item = diff.items.find((i: { correlationId: string }) => i.correlationId === id);
    assert.equal(item.audience, 'care-coordination');
    assert.equal(item.active.effect, 'PERMIT');
    assert.equal(item.candidate.effect, 'NOT_ROUTED');
    const published = await waitFor(() => decisionEvents(id).find((e) => e.value.shadow), { what: 'shadow record on clinical.policy.decisions' });
    assert.equal(published.value.policyVersion, candidate.version);
    assert.equal(published.value.activeEffect, 'PERMIT');

    const promoted = await request('policy', 'POST', '/v1/policy/shadow/promote', undefined, { 'if-match': `"${candidate.version}"` });
    assert.equal(promoted.status, 201, promoted.text);
    assert.equal((await request('policy', 'GET', '/v1/policy')).json().active.version, candidate.version);
    await waitFor(() => policyEvents('POLICY_ACTIVATED').find((e) => e.value.subjectId === candidate.version), { what: 'POLICY_ACTIVATED' });
    const next = await send(oru('POL-SH-ORU-2', mrn, [GLUCOSE]));
    await decided(next, 3);
    assert.deepEqual(audiencesOf(next), ['care-team', 'integration-subscribers'], 'the promoted version decides the next event');
  });

  it('a delay rule holds one audience\'s view until its release time while the others get theirs at once; the timer publishes it unchanged', async () => {
    const active = (await request('policy', 'GET', '/v1/policy')).json().active;
    const document = (await pipeline.query('policy', `SELECT document FROM pl_policy_version WHERE version = $1`, [active.version]))[0].document;
    const candidate = structuredClone(document);
    candidate.version = `${active.version}-delay`;
    candidate.routing.push({
      id: 'hold-results-for-partners', description: 'results reach integration partners after the care team has had them',
      when: { messageTypes: ['ORU^*'] }, then: { action: 'delay', delaySeconds: 2, delayAudiences: ['integration-subscribers'] },
    });
    assert.equal((await request('policy', 'POST', '/v1/policy/shadow', candidate)).status, 201);
    assert.equal((await request('policy', 'POST', '/v1/policy/shadow/promote', undefined, { 'if-match': `"${candidate.version}"` })).status, 201);
    const mrn = 'MRN-POL-DELAY';
    await admit('POL-DL-ADT', mrn);
    const id = await send(oru('POL-DL-ORU', mrn, [GLUCOSE]));
    // decided() waits until every permitted audience's view is published, the held one included.
    const decisions = await decided(id, 3);
    const partners = decisions['integration-subscribers'];
    assert.ok(partners.obligations.includes('delay:2s'), JSON.stringify(partners.obligations));
    assert.ok(partners.ruleIds.includes('hold-results-for-partners'));
    const [hold] = await pipeline.query('policy', 'SELECT routed_event_id, release_at, released_at, held_at FROM pl_held_view WHERE decision_id = $1', [partners.decisionId]);
    assert.ok(hold, 'the view was held');
    assert.ok(new Date(hold.released_at).getTime() >= new Date(hold.release_at).getTime(), 'released at or after its release time, never before');
    assert.ok(new Date(hold.release_at).getTime() > new Date(hold.held_at).getTime());
    const published = routed(id).find((r) => r.value.audience === 'integration-subscribers')!;
    assert.equal(published.value.eventId, hold.routed_event_id, 'published under the id the decision names');
    assert.equal(published.value.decisionId, partners.decisionId);
    const others = Object.values(decisions as Record<string, { audience: string; decisionId: string }>).filter((d) => d.audience !== 'integration-subscribers').map((d) => d.decisionId);
    assert.equal((await pipeline.query('policy', 'SELECT count(*)::int AS n FROM pl_held_view WHERE decision_id = ANY($1)', [others]))[0].n, 0, 'the other audiences were not held');
    const metrics = (await request('policy', 'GET', '/metrics')).text;
    assert.ok(sumSamples(metrics, 'clinmesh_policy_views_held_total', { audience: 'integration-subscribers' }) >= 1, 'holds are counted');
    assert.ok(sumSamples(metrics, 'clinmesh_policy_views_released_total', { audience: 'integration-subscribers' }) >= 1, 'releases are counted');
  });

  it('a message the source marked restricted (PD1-12 protection indicator) reaches only the treating team: others are denied the whole message', async () => {
    const mrn = 'MRN-POL-RESTRICTED';
    await admit('POL-R-ADT', mrn);
    const [msh, pid, ...rest] = oru('POL-R-ORU', mrn, [GLUCOSE]).split('\r');
    const id = await send([msh, pid, 'PD1||||||||||||Y', ...rest].join('\r'));
    const decisions = await decided(id, 3);
    assert.equal(decisions['care-team'].effect, 'PERMIT');
    assert.ok(decisions['care-team'].labels.includes('R'), 'the decision carries the source label');
    for (const audience of Object.keys(decisions).filter((a) => a !== 'care-team')) {
      assert.equal(decisions[audience].effect, 'DENY', audience);
      assert.match(decisions[audience].reason, /source marked the whole message R/, audience);
    }
    assert.deepEqual(audiencesOf(id), ['care-team']);
    assert.equal(deidentified(id).length, 0);
  });

  it('a version activated through another replica (written to the shared database) is in force here within the follow period and decides the next event', async () => {
    const active = (await request('policy', 'GET', '/v1/policy')).json().active;
    const document = (await pipeline.query('policy', `SELECT document FROM pl_policy_version WHERE version = $1`, [active.version]))[0].document;
    const next = structuredClone(document);
    next.version = `${active.version}-replica`;
    // What another replica's activation leaves in the database (PolicyVersionRepository.activate).
    await pipeline.query('policy', `UPDATE pl_policy_version SET status = 'retired' WHERE status = 'active'`);
    await pipeline.query('policy', `INSERT INTO pl_policy_version (version, document, status, source, activated_at) VALUES ($1, $2::jsonb, 'active', 'another replica', now())`, [next.version, JSON.stringify(next)]);
    await waitFor(async () => (await request('policy', 'GET', '/v1/policy')).json().active.version === next.version, { what: 'the version activated elsewhere in force here', timeoutMs: 30_000 });
    const mrn = 'MRN-POL-REPLICA';
    await admit('POL-RP-ADT', mrn);
    const id = await send(oru('POL-RP-ORU', mrn, [GLUCOSE]));
    const decisions = await decided(id, 3);
    for (const d of Object.values(decisions as Record<string, { policyVersion: string }>)) assert.equal(d.policyVersion, next.version);
  });
});
