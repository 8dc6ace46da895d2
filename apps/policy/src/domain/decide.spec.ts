import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CanonicalEvent, CanonicalRecords, Coding, Observation, Patient } from '@clinmesh/schemas';
import { loadPolicyFiles } from '../adapters/files/policy-files';
import { decide } from './decide';
import type { ConsentDirective, ConsentProvision } from './consent';
import { parseFhirConsent } from './fhir-consent';
import { PolicyValidationError } from './policy-set.validator';
import { projectView } from './views';
import { decisionInput } from '../application/route-canonical-event.handler';

const files = loadPolicyFiles(`${process.cwd()}/apps/policy/policy`);
const policy = files.policy;
const NOW = Date.parse('2026-11-28T12:00:00Z');
const prov = { sourceSystem: 'LAB', messageId: 'CTRL-1', sourceFormat: 'HL7V2', sourceMessageType: 'ORU^R01', mappingVersion: '1', sourceFields: [] };
const coding = (system: string, code: string): Coding => ({ system, code, display: null, mapping: 'STANDARD', unmapped: false, unmappedReason: null, originalSystem: null, originalCode: null });
const time = (iso: string) => ({ instant: Date.parse(iso), original: iso, offset: '+0000', precision: 'SECOND' as const, offsetSource: 'SOURCE' as const, date: iso.slice(0, 10) });

function obs(id: string, loinc: string, interpretation = 'N'): Observation {
  return {
    id, changeType: 'CREATE', correction: false, patientId: 'pat-1', provenance: prov, status: 'final', code: { codings: [coding('http://loinc.org', loinc)], text: null },
    valueType: 'NM', valueQuantity: { value: 1, comparator: null, unit: 'x', ucum: null }, valueString: null, valueCode: null, valueTime: null, convertedValues: [],
    referenceRange: null, interpretation: [coding('http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', interpretation)], effective: time('2026-11-21T07:55:00Z'),
    issued: null, reportId: 'rep-1', orderId: 'ord-1', subId: null, partOfId: null, partOfType: null,
  };
}

function patient(): Patient {
  return {
    id: 'pat-1', changeType: 'UPDATE', correction: false, provenance: prov, identifiers: [{ system: 'TESTHOSP', value: 'MRN-1', type: 'MR' }],
    names: [{ family: 'NGUYEN', given: ['AMARA'], prefix: [], suffix: [], use: null }], birthDate: '1970-03-04', gender: 'female',
    addresses: [{ lines: ['1 MAIN ST'], city: 'SPRINGFIELD', state: 'IL', postalCode: '62701', country: 'US', use: null }],
    telecoms: [{ system: 'phone', value: '(217)555-0101', use: 'home' }], deceased: null, deceasedAt: null, maritalStatus: null, mergedIdentifiers: [],
  };
}

function canonical(observations: Observation[], extra: Partial<CanonicalRecords> = {}, messageType = 'ORU^R01'): CanonicalEvent {
  const records: CanonicalRecords = {
    patients: [patient()], encounters: [], observations, diagnosticReports: [], serviceRequests: [], medicationRequests: [], medicationAdministrations: [],
    immunizations: [], appointments: [], conditions: [], allergies: [], documents: [], procedures: [], coverages: [], ...extra,
  };
  return {
    eventId: 'evt-1', correlationId: 'msg-1', causationId: 'idf-1', epid: 'EPID-1', tier: 'routine', changeType: 'CREATE', occurredAt: Date.parse('2026-11-21T07:55:00Z'),
    recordedAt: Date.parse('2026-11-21T08:30:00Z'), receivedAt: Date.parse('2026-11-21T08:30:01Z'), source: { system: 'LAB', facility: 'TESTHOSP' } as CanonicalEvent['source'],
    resourceType: 'Observation', canonicalId: 'obs-1', document: JSON.stringify({ resourceType: 'Observation', id: 'obs-1', messageType }),
    provenance: { ...prov, sourceMessageType: messageType }, records, unmappedCodes: [], issues: [], supersedesEventId: null,
  };
}

const provision = (p: Partial<ConsentProvision>): ConsentProvision => ({
  type: 'deny', audiences: [], actions: [], securityLabels: [], purposes: [], classes: [], codes: [], provisions: [], ...p,
});

describe('policy decision function', () => {
  it('routes a result to its audiences with one decision each, default rules named', () => {
    const d = decide(policy, decisionInput(canonical([obs('o1', '2345-7')])), [], [], NOW);
    assert.deepEqual(d.audiences, ['care-team', 'care-coordination', 'research', 'integration-subscribers']);
    assert.deepEqual(d.workflows, ['result-review']);
    const team = d.perAudience.find((a) => a.audience === 'care-team')!;
    assert.equal(team.effect, 'PERMIT');
    assert.deepEqual(team.ruleIds, ['permit-treatment']);
    assert.equal(team.consent.decision, 'NO_CONSENT');
    assert.equal(d.tier, 'routine');
  });

  it('labels an HIV result and withholds it from audiences no rule or consent permits, naming the rule and the label', () => {
    const d = decide(policy, decisionInput(canonical([obs('o1', '2345-7'), obs('o2', '7917-8')])), [], [], NOW);
    assert.deepEqual(d.labels, ['HIV']);
    assert.equal(d.labelEvidence[0].valueSet, 'hiv-tests-and-diagnoses');
    const coord = d.perAudience.find((a) => a.audience === 'care-coordination')!;
    assert.equal(coord.effect, 'REDACT');
    assert.deepEqual(coord.withheldLabels, ['HIV']);
    assert.ok(coord.ruleIds.includes('forbid-hiv-outside-treating-team'));
    assert.ok(coord.obligations.includes('redact:HIV'));
    assert.match(coord.reason, /HIV withheld by forbid-hiv-outside-treating-team/);
    const feed = d.perAudience.find((a) => a.audience === 'integration-subscribers')!;
    assert.equal(feed.effect, 'DENY', 'an audience whose policy is deny-on-withheld gets nothing');
    assert.equal(d.perAudience.find((a) => a.audience === 'care-team')!.effect, 'PERMIT', 'the treating team sees it');
    const view = projectView(canonical([obs('o1', '2345-7'), obs('o2', '7917-8')]), policy.set.projections.clinical, { withheld: coord.withheldLabels, recordLabels: d.recordLabels });
    assert.deepEqual(view.records!.observations.map((o) => o.id), ['o1'], 'the HIV observation is removed from the redacted view');
  });

  it('a consent deny for one audience denies it only; a label-scoped permit lifts an unlessConsent forbid', () => {
    const deny: ConsentDirective = { id: 'c-1', epid: 'EPID-1', provision: provision({ type: 'deny', audiences: ['care-coordination'] }) };
    const d = decide(policy, decisionInput(canonical([obs('o1', '2345-7')])), [deny], [], NOW);
    const coord = d.perAudience.find((a) => a.audience === 'care-coordination')!;
    assert.equal(coord.effect, 'DENY');
    assert.equal(coord.consent.consentId, 'c-1');
    assert.equal(coord.consent.provision, 'Consent.provision');
    assert.equal(d.perAudience.find((a) => a.audience === 'care-team')!.effect, 'PERMIT');
    const permitHiv: ConsentDirective = { id: 'c-2', epid: 'EPID-1', provision: provision({ type: 'deny', provisions: [provision({ type: 'permit', audiences: ['care-coordination'], securityLabels: ['HIV'] })] }) };
    const hiv = decide(policy, decisionInput(canonical([obs('o1', '2345-7'), obs('o2', '7917-8')])), [permitHiv], [], NOW);
    const c2 = hiv.perAudience.find((a) => a.audience === 'care-coordination')!;
    assert.equal(c2.effect, 'DENY', 'the root deny applies to everything else');
    const permitAll: ConsentDirective = { id: 'c-3', epid: 'EPID-1', provision: provision({ type: 'permit', provisions: [provision({ type: 'permit', audiences: ['care-coordination'], securityLabels: ['HIV'] })] }) };
    const lifted = decide(policy, decisionInput(canonical([obs('o1', '2345-7'), obs('o2', '7917-8')])), [permitAll], [], NOW).perAudience.find((a) => a.audience === 'care-coordination')!;
    assert.equal(lifted.effect, 'PERMIT');
    assert.equal(lifted.consent.provision, 'Consent.provision.provision[0]');
    assert.match(lifted.reason, /HIV released: forbid-hiv-outside-treating-team lifted by consent c-3/);
  });

  it('break-glass overrides a consent deny under purpose BTG, and only while it lasts', () => {
    const deny: ConsentDirective = { id: 'c-1', epid: 'EPID-1', provision: provision({ type: 'deny', audiences: ['care-team'] }) };
    const grant = { id: 'g-1', audience: 'care-team', expiresAt: NOW + 60_000 };
    const during = decide(policy, decisionInput(canonical([obs('o1', '2345-7')])), [deny], [grant], NOW).perAudience.find((a) => a.audience === 'care-team')!;
    assert.equal(during.effect, 'PERMIT');
    assert.equal(during.purposeOfUse, 'BTG');
    assert.equal(during.breakGlassGrantId, 'g-1');
    const after = decide(policy, decisionInput(canonical([obs('o1', '2345-7')])), [deny], [grant], NOW + 61_000).perAudience.find((a) => a.audience === 'care-team')!;
    assert.equal(after.effect, 'DENY');
  });

  it('escalates a critical value to stat (as data) and never lowers a tier', () => {
    const d = decide(policy, decisionInput(canonical([obs('o1', '2345-7', 'HH')])), [], [], NOW);
    assert.equal(d.tier, 'stat');
    assert.ok(d.critical);
    assert.ok(d.routingRuleIds.includes('critical-value-escalation'));
    assert.ok(d.audiences.includes('critical-result-oncall'));
    const statNormal = decide(policy, { ...decisionInput(canonical([obs('o1', '2345-7')])), tier: 'stat' }, [], [], NOW);
    assert.equal(statNormal.tier, 'stat');
  });

  it('a delay rule holds the named audiences\' views until their release time, names itself, and never holds a critical value', () => {
    const set = structuredClone(policy.set) as unknown as Record<string, any>;
    set.version = `${policy.version}-delay`;
    set.routing.push(
      { id: 'hold-results-for-coordination', description: 'results reach care coordination after the ordering team', when: { messageTypes: ['ORU^*'] }, then: { action: 'delay', delaySeconds: 3600, delayAudiences: ['care-coordination'] } },
      { id: 'hold-results-longer', description: 'a longer hold for the same audience', when: { messageTypes: ['ORU^*'] }, then: { action: 'delay', delaySeconds: 7200, delayAudiences: ['care-coordination'] } },
    );
    const delayed = files.validator.policy(set);
    const d = decide(delayed, decisionInput(canonical([obs('o1', '2345-7')])), [], [], NOW);
    const coordination = d.perAudience.find((a) => a.audience === 'care-coordination')!;
    assert.equal(coordination.effect, 'PERMIT');
    assert.equal(coordination.releaseAt, NOW + 7200_000, 'the longest hold wins');
    assert.ok(coordination.obligations.includes('delay:7200s'));
    assert.ok(coordination.ruleIds.includes('hold-results-longer'));
    assert.match(coordination.reason, /held by hold-results-longer .* until 2026-11-28T14:00:00\.000Z/);
    assert.equal(d.perAudience.find((a) => a.audience === 'care-team')!.releaseAt, null, 'other audiences are not held');
    const critical = decide(delayed, decisionInput(canonical([obs('o1', '2345-7', 'HH')])), [], [], NOW);
    const criticalCoordination = critical.perAudience.find((a) => a.audience === 'care-coordination');
    if (criticalCoordination) {
      assert.equal(criticalCoordination.releaseAt, null);
      assert.match(criticalCoordination.reason, /not applied: a critical value is never held/);
    }
    assert.ok(critical.perAudience.every((a) => a.releaseAt === null));
    // A delay needs its duration; a rule for critical values cannot delay.
    const noDuration = structuredClone(set);
    delete noDuration.routing.at(-1).then.delaySeconds;
    assert.throws(() => files.validator.policy(noDuration), (e: PolicyValidationError) =>
      e.problems.some((p) => p.path === `/routing/${noDuration.routing.length - 1}/then` && /delaySeconds/.test(p.message)));
    const criticalDelay = structuredClone(set);
    criticalDelay.routing.at(-1).when = { critical: true };
    assert.throws(() => files.validator.policy(criticalDelay), (e: PolicyValidationError) =>
      e.problems.some((p) => p.path === `/routing/${criticalDelay.routing.length - 1}/then/action` && /never delayed/.test(p.message)));
  });

  it('a confidentiality code the source put on the whole message (R) withholds the whole message from audiences no rule permits: nothing can be redacted away', () => {
    const c = canonical([obs('o1', '2345-7')]);
    const restricted = { ...c, document: JSON.stringify({ ...JSON.parse(c.document), security: ['R'] }) };
    const d = decide(policy, decisionInput(restricted), [], [], NOW);
    assert.ok(d.labels.includes('R'));
    const team = d.perAudience.find((a) => a.audience === 'care-team')!;
    assert.equal(team.effect, 'PERMIT', 'the treating team is excepted from the restriction');
    const coordination = d.perAudience.find((a) => a.audience === 'care-coordination')!;
    assert.equal(coordination.effect, 'DENY');
    assert.match(coordination.reason, /the source marked the whole message R/);
    const unrestricted = decide(policy, decisionInput(c), [], [], NOW);
    assert.equal(unrestricted.perAudience.find((a) => a.audience === 'care-coordination')!.effect, 'PERMIT');
  });

  it('the scheduling view has no diagnoses, results or MRN; the Safe Harbor view no direct identifiers', () => {
    const c = canonical([obs('o1', '2345-7')], { conditions: [{ id: 'cond-1', changeType: 'CREATE', correction: false, patientId: 'pat-1', provenance: prov, code: { codings: [coding('http://hl7.org/fhir/sid/icd-10-cm', 'E11.9')], text: 'Diabetes' }, clinicalStatus: 'active', category: null, onset: null, recorded: null, diagnosisType: null }] }, 'ADT^A01');
    const sched = projectView(c, policy.set.projections.scheduling, { withheld: [], recordLabels: new Map() });
    assert.equal(sched.records!.observations.length, 0);
    assert.equal(sched.records!.conditions.length, 0);
    assert.deepEqual(sched.records!.patients[0].identifiers, []);
    assert.equal(sched.records!.patients[0].names[0].family, 'NGUYEN');
    assert.equal(sched.records!.patients[0].telecoms[0].value, '(217)555-0101');
    assert.doesNotMatch(JSON.stringify(sched), /MRN-1|E11\.9|2345-7/);
    const deid = projectView(c, policy.set.projections['safe-harbor'], { withheld: [], recordLabels: new Map(), pseudonymSecret: 'a-test-secret-of-some-length', audience: 'research' });
    const text = JSON.stringify(deid);
    for (const identifier of ['NGUYEN', 'AMARA', 'MRN-1', '555-0101', '1 MAIN ST', 'SPRINGFIELD', '62701', 'EPID-1', 'CTRL-1', '1970-03-04', '2026-11-21']) assert.ok(!text.includes(identifier), `${identifier} removed`);
    assert.equal(deid.records!.patients[0].addresses[0].postalCode, '627');
    assert.equal(deid.records!.patients[0].birthDate, '1970');
    assert.match(deid.epid, /^psn-/);
    assert.equal(deid.records!.observations[0].code.codings[0].code, '2345-7', 'the clinical content stays');
    assert.equal(deid.records!.observations[0].effective!.original, '2026');
  });
});

describe('policy data validation', () => {
  it('lists every problem of a policy document at once', () => {
    const bad = structuredClone(policy.set) as unknown as Record<string, any>;
    bad.audiences.scheduling.onWithheld = 'maybe';
    bad.routing[0].then.escalateTo = 'sometime';
    bad.rules[0].colour = 'blue';
    delete bad.defaultWorkflow;
    assert.throws(() => files.validator.policy(bad), (e: PolicyValidationError) => {
      assert.ok(e.problems.length >= 4, JSON.stringify(e.problems));
      assert.ok(e.problems.some((p) => p.path === '/audiences/scheduling/onWithheld'));
      assert.ok(e.problems.some((p) => p.path === '/routing/0/then/escalateTo'));
      assert.ok(e.problems.some((p) => p.message.includes('colour')));
      assert.ok(e.problems.some((p) => p.message.includes('defaultWorkflow')));
      return true;
    });
    const unknown = structuredClone(policy.set) as unknown as Record<string, any>;
    unknown.routing[1].then.audiences.push('nobody');
    unknown.audiences.research.projection = 'nowhere';
    assert.throws(() => files.validator.policy(unknown), (e: PolicyValidationError) => e.problems.length === 2 && /unknown audience "nobody"/.test(e.message) && /unknown projection "nowhere"/.test(e.message));
  });

  it('refuses an invalid FHIR Consent with every issue and its FHIRPath', () => {
    const { issues } = parseFhirConsent({
      resourceType: 'Consent', status: 'maybe', patient: { identifier: { system: 'urn:oid:1.2' } },
      provision: { type: 'perhaps', actor: [{ role: { coding: [{ system: 'https://clinmesh.example/fhir/CodeSystem/audience', code: 'marketing' }] } }], period: { start: '2026-12-01', end: '2026-01-01' } },
    }, new Set(Object.keys(policy.set.audiences)));
    const where = issues.map((i) => i.expression);
    for (const e of ['Consent.status', 'Consent.scope', 'Consent.category', 'Consent.patient.identifier', 'Consent.provision.type', 'Consent.provision.actor[0]', 'Consent.provision.period']) assert.ok(where.includes(e), `${e} in ${where.join(', ')}`);
    assert.ok(issues.some((i) => /unknown audience "marketing"/.test(i.diagnostics)));
  });
});
