import { randomUUID } from 'node:crypto';
import { ClinmeshError } from '@clinmesh/errors';
import type { EventContext, EventRuntime } from '@clinmesh/event-runtime';
import { sourcePatientKey } from '@clinmesh/security';
import { ConsentDirective, evaluateConsents } from '../domain/consent';
import { ConsentIssue, ParsedConsent, parseFhirConsent } from '../domain/fhir-consent';
import type { PolicyStore } from './policy-store';
import type { StoredConsent, StoresFactory } from './ports';
import { policyEvent } from './patient-events.handlers';

/** A Consent refused: the OperationOutcome issues, every one at once. */
export class InvalidConsentError extends ClinmeshError {
  constructor(readonly issues: ConsentIssue[]) {
    super('POLICY.CONSENT_INVALID', `the Consent is not valid: ${issues.map((i) => `${i.expression}: ${i.diagnostics}`).join('; ')}`, { status: 422, details: { issues } });
  }
}

export interface ConsentView {
  id: string;
  version: number;
  status: string;
  /** pending: the patient is not known yet; applied: decisions use it; revoked: no longer in force. */
  state: 'pending' | 'applied' | 'revoked' | 'not-in-force';
  epid: string | null;
  appliedAt: string | null;
  recordedBy: string;
  resource: Record<string, unknown>;
}

/** Keys under which identity events name a patient: the mapped HL7 v2 assigning authority, and the system itself (FHIR-sourced records). */
export function patientKeys(store: PolicyStore, secret: string, system: string, value: string): string[] {
  const authority = store.identifierSystems.authorityOf(system);
  return [...new Set([...(authority ? [sourcePatientKey(secret, authority, value)] : []), sourcePatientKey(secret, system, value)])];
}

/** Parses `system|value` (a FHIR token search parameter). */
export function parsePatientToken(token: string | undefined): { system: string; value: string } {
  const i = token?.lastIndexOf('|') ?? -1;
  if (!token || i <= 0 || i === token.length - 1) throw new ClinmeshError('POLICY.PATIENT_PARAMETER', 'patient must be given as system|value (an identifier)', { status: 400 });
  return { system: token.slice(0, i), value: token.slice(i + 1) };
}

/**
 * Consent directives: a FHIR R4 Consent in, validated, its patient resolved
 * to the EPID through policy's identity index (pending until the patient is
 * known), stored with a version (ETag). A change takes effect for the next
 * event; a revocation or a new deny withdraws the recent decisions it no
 * longer allows (DECISION_REVOKED, so the notifier cancels what is pending).
 */
export class ConsentService {
  constructor(
    private readonly runtime: EventRuntime,
    private readonly store: PolicyStore,
    private readonly stores: StoresFactory,
    private readonly options: { patientKeySecret: string; revocationLookbackMs: number },
  ) {}

  private parse(resource: unknown): ParsedConsent {
    const { issues, consent } = parseFhirConsent(resource, new Set(Object.keys(this.store.active.set.audiences)));
    if (consent && !this.store.identifierSystems.authorityOf(consent.patient.system)) {
      issues.push({ severity: 'error', code: 'code-invalid', expression: 'Consent.patient.identifier.system', diagnostics: `identifier system ${consent.patient.system} is not mapped to an assigning authority (apps/policy/policy/identifier-systems.json)` });
    }
    if (issues.length || !consent) throw new InvalidConsentError(issues);
    return consent;
  }

  async create(resource: Record<string, unknown>, actor: string, operationId = randomUUID()): Promise<ConsentView> {
    const parsed = this.parse(resource);
    const id = typeof resource.id === 'string' && /^[A-Za-z0-9\-.]{1,64}$/.test(resource.id) ? resource.id : randomUUID();
    const keys = patientKeys(this.store, this.options.patientKeySecret, parsed.patient.system, parsed.patient.value);
    return this.runtime.inTransaction({ id: `consent:${id}:${operationId}`, correlationId: operationId, tier: 'urgent', source: 'policy-api' }, async (ctx) => {
      const s = this.stores(ctx.uow);
      if (await s.consents.get(id)) throw new ClinmeshError('POLICY.CONSENT_EXISTS', `consent ${id} exists; update it with PUT and If-Match`, { status: 409 });
      const [epid] = await s.identities.epidsOf(keys);
      const stored = await s.consents.insert({
        id, version: 1, status: parsed.status, patientKeys: keys, patientSystem: parsed.patient.system, epid: epid ?? null,
        resource: { ...resource, id }, provision: parsed.provision, recordedBy: actor,
      });
      policyEvent(ctx, 'consent-recorded', { kind: 'CONSENT_RECORDED', epid: epid ?? null, subjectId: id, actor, details: { version: '1', status: parsed.status, state: epid ? 'applied' : 'pending' } });
      if (epid && parsed.status === 'active') await this.withdraw(ctx, epid, id, `consent ${id} recorded`);
      return view(stored);
    });
  }

  /** A new version of the Consent (`expected` = the version read, the If-Match); status inactive revokes it. */
  async update(id: string, expected: number, resource: Record<string, unknown>, actor: string, operationId = randomUUID()): Promise<ConsentView> {
    const parsed = this.parse(resource);
    return this.runtime.inTransaction({ id: `consent:${id}:${operationId}`, correlationId: operationId, tier: 'urgent', source: 'policy-api' }, async (ctx) => {
      const s = this.stores(ctx.uow);
      const current = await s.consents.get(id, true);
      if (!current) throw new ClinmeshError('POLICY.CONSENT_NOT_FOUND', `no consent ${id}`, { status: 404 });
      if (current.version !== expected) throw new ClinmeshError('POLICY.VERSION_MISMATCH', `consent ${id} is at version ${current.version}, not ${expected}`, { status: 412, details: { currentVersion: current.version } });
      const keys = patientKeys(this.store, this.options.patientKeySecret, parsed.patient.system, parsed.patient.value);
      if (!keys.some((k) => current.patientKeys.includes(k))) {
        throw new ClinmeshError('POLICY.CONSENT_PATIENT_CHANGED', 'a consent cannot move to another patient; record a new Consent', { status: 409, details: { current: view(current) } });
      }
      const updated = await s.consents.update(id, expected, { status: parsed.status, resource: { ...resource, id }, provision: parsed.provision });
      if (!updated) throw new ClinmeshError('POLICY.VERSION_MISMATCH', `consent ${id} changed meanwhile`, { status: 412 });
      const revoked = current.status === 'active' && parsed.status !== 'active';
      policyEvent(ctx, `consent-${revoked ? 'revoked' : 'recorded'}:${updated.version}`, {
        kind: revoked ? 'CONSENT_REVOKED' : 'CONSENT_RECORDED', epid: updated.epid, subjectId: id, actor, details: { version: String(updated.version), status: parsed.status },
      });
      if (updated.epid) await this.withdraw(ctx, updated.epid, id, revoked ? `consent ${id} revoked` : `consent ${id} changed`);
      return view(updated);
    });
  }

  async get(id: string, sql: Parameters<StoresFactory>[0]): Promise<ConsentView> {
    const c = await this.stores(sql).consents.get(id);
    if (!c) throw new ClinmeshError('POLICY.CONSENT_NOT_FOUND', `no consent ${id}`, { status: 404 });
    return view(c);
  }

  async list(patient: string | undefined, sql: Parameters<StoresFactory>[0]): Promise<ConsentView[]> {
    const { system, value } = parsePatientToken(patient);
    return (await this.stores(sql).consents.byPatientKeys(patientKeys(this.store, this.options.patientKeySecret, system, value))).map(view);
  }

  /**
   * Re-decides the patient's recent released decisions against the consents
   * now in force; each one they would no longer allow is withdrawn
   * (DECISION_REVOKED: the notifier cancels pending deliveries made under it).
   */
  private async withdraw(ctx: EventContext, epid: string, consentId: string, reason: string): Promise<void> {
    const s = this.stores(ctx.uow);
    const consents: ConsentDirective[] = await s.consents.activeDirectives(epid);
    const grants = await s.grants.active(epid, new Date());
    const recent = await s.decisions.releasedSince(epid, new Date(Date.now() - this.options.revocationLookbackMs));
    const withdrawn: string[] = [];
    for (const d of recent) {
      if (grants.some((g) => g.audience === d.audience)) continue;
      const def = this.store.active.set.audiences[d.audience];
      const purpose = def?.purposeOfUse ?? d.purpose;
      const base = { audience: d.audience, purpose, resourceTypes: new Set([d.resourceType]), codes: new Set<string>(), dataTime: null, now: Date.now() };
      const whole = evaluateConsents(consents, base);
      const deniedLabel = d.labels.find((label) => !d.withheldLabels.includes(label) && evaluateConsents(consents, { ...base, label }).decision === 'CONSENT_DENY');
      // Did the release rest on this consent (labels a forbid withheld unless consented, or no permit rule)? Then it must still permit.
      const rules = this.store.active.set.rules;
      const effectOf = (id: string) => rules.find((r) => r.id === id)?.effect;
      const released = d.labels.filter((l) => !d.withheldLabels.includes(l));
      const liftedLabels = !d.grantId && d.ruleIds.some((id) => effectOf(id) === 'forbid') ? released : [];
      const byRule = d.ruleIds.some((id) => effectOf(id) === 'permit');
      const reliedOnConsent = d.consentId === consentId && d.consentDecision === 'CONSENT_PERMIT';
      const releasedByConsent = reliedOnConsent && (
        liftedLabels.some((label) => evaluateConsents(consents, { ...base, label }).decision !== 'CONSENT_PERMIT')
        || (!byRule && whole.decision !== 'CONSENT_PERMIT'));
      if ((whole.decision === 'CONSENT_DENY' && !whole.labelScoped) || deniedLabel || releasedByConsent) {
        withdrawn.push(d.decisionId);
        policyEvent(ctx, `decision-revoked:${d.decisionId}`, {
          kind: 'DECISION_REVOKED', epid, subjectId: d.decisionId, audience: d.audience,
          reason: `${reason}: ${d.audience} is no longer permitted${deniedLabel ? ` ${deniedLabel} data` : ''}`, details: { consentId, routedEventId: d.routedEventId ?? '' },
        });
      }
    }
    await s.decisions.revoke(withdrawn, reason);
  }
}


function view(c: StoredConsent): ConsentView {
  const state = c.status !== 'active' ? (c.status === 'inactive' || c.status === 'entered-in-error' ? 'revoked' : 'not-in-force') : c.epid ? 'applied' : 'pending';
  return {
    id: c.id, version: c.version, status: c.status, state, epid: c.epid, appliedAt: c.appliedAt, recordedBy: c.recordedBy,
    resource: { ...c.resource, meta: { ...((c.resource.meta as object) ?? {}), versionId: String(c.version), lastUpdated: c.updatedAt } },
  };
}
