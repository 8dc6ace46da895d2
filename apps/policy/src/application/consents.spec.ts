import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventContext, EventOrigin, EventRuntime, UnitOfWork, eventContext } from '@clinmesh/event-runtime';
import { sourcePatientKey } from '@clinmesh/security';
import type { InboundEvent } from '@clinmesh/event-runtime';
import type { IdentityEvent } from '@clinmesh/schemas';
import { loadPolicyFiles } from '../adapters/files/policy-files';
import { ConsentService, InvalidConsentError } from './consents';
import { IdentityEventsHandler } from './patient-events.handlers';
import { PolicyStore } from './policy-store';
import type { DecisionRecord, PolicyStores, StoredConsent } from './ports';

const SECRET = 'a-patient-key-secret-for-tests';
const files = loadPolicyFiles(`${process.cwd()}/apps/policy/policy`);
const store = new PolicyStore(files.validator, files.policy, files.identifierSystems);
const KEY = sourcePatientKey(SECRET, 'TESTHOSP', 'MRN-9');

/** In-memory stores (pure logic under test; the SQL is exercised end to end). */
function memory() {
  const consents: StoredConsent[] = [];
  const index = new Map<string, string>();
  const revoked: string[] = [];
  const released: DecisionRecord[] = [];
  const stores = {
    identities: {
      upsert: async (k: string, e: string) => { index.set(k, e); },
      epidsOf: async (keys: string[]) => [...new Set(keys.map((k) => index.get(k)).filter((e): e is string => !!e))],
      mergePatient: async (from: string, to: string) => { for (const [k, e] of index) if (e === from) index.set(k, to); },
    },
    consents: {
      insert: async (c: StoredConsent) => { const s = { ...c, createdAt: '', updatedAt: '', appliedAt: null }; consents.push(s); return s; },
      get: async (id: string) => consents.find((c) => c.id === id),
      update: async () => undefined,
      byPatientKeys: async () => consents,
      activeDirectives: async (epid: string) => consents.filter((c) => c.epid === epid && c.status === 'active').map((c) => ({ id: c.id, epid, provision: c.provision })),
      resolvePending: async (key: string, epid: string) => consents.filter((c) => !c.epid && c.patientKeys.includes(key)).map((c) => Object.assign(c, { epid })),
      mergePatient: async (from: string, to: string) => consents.filter((c) => c.epid === from).map((c) => (c.epid = to, c.id)),
    },
    grants: { active: async () => [], mergePatient: async () => undefined },
    decisions: { releasedSince: async () => released, revoke: async (ids: string[]) => { revoked.push(...ids); }, mergePatient: async () => undefined },
    chunk: { flush: async () => undefined, forget: () => undefined },
  } as unknown as PolicyStores;
  const emitted: Array<{ topic: string; value: any }> = [];
  const uow = {} as UnitOfWork;
  const runtime = {
    inTransaction: async <T>(origin: EventOrigin, work: (ctx: EventContext) => Promise<T>) => {
      const sink: Array<{ topic: string; value: any }> = [];
      const result = await work(eventContext(uow, origin, sink as never));
      emitted.push(...sink);
      return result;
    },
  } as unknown as EventRuntime;
  return { consents, index, revoked, released, stores: () => stores, emitted, runtime, uow };
}

const fhirConsent = (provision: Record<string, unknown>) => ({
  resourceType: 'Consent', status: 'active', scope: { coding: [{ code: 'patient-privacy' }] }, category: [{ coding: [{ code: '59284-0' }] }],
  patient: { identifier: { system: 'urn:oid:2.16.840.1.113883.3.9999.1', value: 'MRN-9' } }, provision,
});

const released = (audience: string, id: string): DecisionRecord => ({
  decisionId: id, canonicalEventId: 'c', correlationId: 'm', epid: 'EP-9', audience, effect: 'PERMIT', obligations: [], policyVersion: 'v', ruleIds: [], routingRuleIds: [],
  consentId: null, consentProvision: null, consentDecision: 'NO_CONSENT', labels: [], withheldLabels: [], purpose: 'TREAT', grantId: null, projection: 'clinical',
  deidentified: false, tier: 'routine', originalTier: 'routine', critical: false, workflows: [], routedEventId: 'r', resourceType: 'Observation', reason: '', explanation: '',
});

describe('consents', () => {
  it('a consent for an unknown patient is pending and applies when identity events name the patient; it follows merges', async () => {
    const m = memory();
    const service = new ConsentService(m.runtime, store, m.stores, { patientKeySecret: SECRET, revocationLookbackMs: 3_600_000 });
    const c = await service.create(fhirConsent({ type: 'deny', actor: [{ reference: { reference: 'Group/scheduling' } }] }), 'tester');
    assert.equal(c.state, 'pending');
    const identity = new IdentityEventsHandler(m.stores);
    const event = (value: Partial<IdentityEvent>) => ({ eventId: 'i', correlationId: 'i', value: { eventId: 'i', correlationId: 'i', recordKey: KEY, method: 'm', at: 0, ...value } }) as InboundEvent<IdentityEvent>;
    const ctx = (id: string, sink: any[]) => eventContext(m.uow, { id, correlationId: id, tier: 'urgent' }, sink as never);
    const sink: Array<{ topic: string; value: any }> = [];
    await identity.handle(event({ type: 'PERSON_CREATED', epid: 'EP-9' }), ctx('e1', sink));
    assert.equal(m.consents[0].epid, 'EP-9');
    assert.equal(sink[0].value.kind, 'CONSENT_APPLIED');
    await identity.handle(event({ type: 'PERSONS_MERGED', epid: 'EP-1', otherEpid: 'EP-9' }), ctx('e2', sink));
    assert.equal(m.consents[0].epid, 'EP-1', 'the consent follows the surviving person');
    assert.equal(m.index.get(KEY), 'EP-1');
  });

  it('a new deny withdraws the released decisions it no longer allows (DECISION_REVOKED), not the others', async () => {
    const m = memory();
    m.index.set(KEY, 'EP-9');
    m.released.push(released('care-coordination', 'd-coord'), released('care-team', 'd-team'));
    const service = new ConsentService(m.runtime, store, m.stores, { patientKeySecret: SECRET, revocationLookbackMs: 3_600_000 });
    const c = await service.create(fhirConsent({ type: 'permit', provision: [{ type: 'deny', actor: [{ role: { coding: [{ system: 'https://clinmesh.example/fhir/CodeSystem/audience', code: 'care-coordination' }] } }] }] }), 'tester');
    assert.equal(c.state, 'applied');
    assert.deepEqual(m.revoked, ['d-coord']);
    const revocations = m.emitted.filter((e) => e.value.kind === 'DECISION_REVOKED');
    assert.equal(revocations.length, 1);
    assert.equal(revocations[0].value.subjectId, 'd-coord');
    assert.equal(revocations[0].value.audience, 'care-coordination');
    assert.equal(revocations[0].value.epid, 'EP-9');
  });

  it('revoking a consent withdraws only the releases that rested on it', async () => {
    const m = memory();
    m.index.set(KEY, 'EP-9');
    const service = new ConsentService(m.runtime, store, m.stores, { patientKeySecret: SECRET, revocationLookbackMs: 3_600_000 });
    const hivRole = { role: { coding: [{ system: 'https://clinmesh.example/fhir/CodeSystem/audience', code: 'care-coordination' }] } };
    const c = await service.create(fhirConsent({ type: 'permit', provision: [{ type: 'permit', actor: [hivRole], securityLabel: [{ code: 'HIV' }] }] }), 'tester');
    const byRule = { ...released('care-team', 'd-rule'), consentId: c.id, consentDecision: 'CONSENT_PERMIT', ruleIds: ['permit-treatment'] };
    const byConsent = { ...released('care-coordination', 'd-hiv'), consentId: c.id, consentDecision: 'CONSENT_PERMIT', labels: ['HIV'], ruleIds: ['permit-treatment', 'forbid-hiv-outside-treating-team'] };
    m.released.push(byRule, byConsent);
    // The update path: the stored consent is no longer active; re-deciding releases withdraws the HIV release only.
    (m.stores().consents as unknown as { update: unknown }).update = async () => Object.assign(m.consents[0], { version: 2, status: 'inactive' });
    await service.update(c.id, 1, { ...fhirConsent({ type: 'permit' }), status: 'inactive' }, 'tester');
    assert.deepEqual(m.revoked, ['d-hiv']);
  });

  it('refuses a Consent whose identifier system is not mapped to an assigning authority', async () => {
    const m = memory();
    const service = new ConsentService(m.runtime, store, m.stores, { patientKeySecret: SECRET, revocationLookbackMs: 1 });
    const bad = { ...fhirConsent({ type: 'deny' }), patient: { identifier: { system: 'urn:oid:9.9.9', value: 'X' } } };
    await assert.rejects(service.create(bad, 't'), (e: InvalidConsentError) => e.issues.some((i) => i.expression === 'Consent.patient.identifier.system'));
  });
});
