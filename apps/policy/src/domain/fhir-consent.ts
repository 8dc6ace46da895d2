import type { ConsentProvision, Interval } from './consent';

/** An OperationOutcome issue (FHIR R4), with the FHIRPath of the element at fault. */
export interface ConsentIssue {
  severity: 'error' | 'warning';
  code: 'required' | 'value' | 'invalid' | 'code-invalid' | 'not-supported' | 'structure';
  expression: string;
  diagnostics: string;
}

export type ConsentStatus = 'draft' | 'proposed' | 'active' | 'rejected' | 'inactive' | 'entered-in-error';
const STATUSES: ConsentStatus[] = ['draft', 'proposed', 'active', 'rejected', 'inactive', 'entered-in-error'];
const ACTIONS = new Set(['collect', 'access', 'use', 'disclose', 'correct']);
const PURPOSES = new Set(['TREAT', 'HPAYMT', 'HOPERAT', 'HRESCH', 'PUBHLTH', 'BTG', 'ETREAT', 'HMARKT', 'HDIRECT', 'PATRQT', 'CAREMGT', 'HSYSADMIN']);
const LABELS = new Set(['N', 'R', 'V', 'L', 'M', 'U', 'ETH', 'HIV', 'PSY', 'STD', 'SDV', 'SUD', 'SEX', 'BH', 'GDIS']);
/** Code system of clinmesh audiences in Consent.provision.actor.role. */
export const AUDIENCE_SYSTEM = 'https://clinmesh.example/fhir/CodeSystem/audience';

export interface ParsedConsent {
  status: ConsentStatus;
  patient: { system: string; value: string };
  provision: ConsentProvision;
}

type Json = Record<string, any>;

/**
 * Validates a FHIR R4 Consent for patient privacy and parses it into a
 * directive. Every problem is reported at once, each with the FHIRPath of the
 * element (an OperationOutcome's issues). Actors are audiences: a role coded
 * in the clinmesh audience code system, or a reference `Group/<audience>`.
 */
export function parseFhirConsent(resource: unknown, knownAudiences: ReadonlySet<string>): { issues: ConsentIssue[]; consent?: ParsedConsent } {
  const issues: ConsentIssue[] = [];
  const err = (code: ConsentIssue['code'], expression: string, diagnostics: string) => issues.push({ severity: 'error', code, expression, diagnostics });
  if (!resource || typeof resource !== 'object' || Array.isArray(resource)) {
    err('structure', 'Consent', 'the body must be a FHIR Consent resource (a JSON object)');
    return { issues };
  }
  const r = resource as Json;
  if (r.resourceType !== 'Consent') err('invalid', 'Consent.resourceType', `resourceType must be "Consent", not ${JSON.stringify(r.resourceType)}`);
  if (!STATUSES.includes(r.status)) err(r.status === undefined ? 'required' : 'code-invalid', 'Consent.status', `status must be one of ${STATUSES.join(', ')}`);
  if (!r.scope || !Array.isArray(r.scope.coding) || !r.scope.coding.length) err('required', 'Consent.scope', 'scope is required (e.g. patient-privacy)');
  else if (!r.scope.coding.some((c: Json) => c?.code === 'patient-privacy')) err('not-supported', 'Consent.scope', 'only patient-privacy consents are decided by policy');
  if (!Array.isArray(r.category) || !r.category.length) err('required', 'Consent.category', 'at least one category is required');
  const identifier = r.patient?.identifier;
  let patient: ParsedConsent['patient'] | undefined;
  if (!r.patient) err('required', 'Consent.patient', 'patient is required, named by identifier (system and value)');
  else if (!identifier || typeof identifier.system !== 'string' || !identifier.system || typeof identifier.value !== 'string' || !identifier.value.trim()) {
    err('required', 'Consent.patient.identifier', 'the patient must be named by identifier with both system and value');
  } else patient = { system: identifier.system, value: identifier.value.trim() };
  if (r.dateTime !== undefined && !validDate(r.dateTime)) err('value', 'Consent.dateTime', `dateTime ${JSON.stringify(r.dateTime)} is not a FHIR dateTime`);
  let provision: ConsentProvision | undefined;
  if (!r.provision || typeof r.provision !== 'object') err('required', 'Consent.provision', 'a provision (type permit or deny, with its conditions) is required for a privacy consent');
  else provision = parseProvision(r.provision, 'Consent.provision', knownAudiences, err);
  if (issues.length || !patient || !provision) return { issues };
  return { issues, consent: { status: r.status, patient, provision } };
}

function parseProvision(p: Json, path: string, audiences: ReadonlySet<string>, err: (code: ConsentIssue['code'], expression: string, diagnostics: string) => void): ConsentProvision {
  if (p.type !== 'permit' && p.type !== 'deny') err(p.type === undefined ? 'required' : 'code-invalid', `${path}.type`, 'type must be permit or deny');
  const list = (v: unknown, at: string): Json[] => {
    if (v === undefined) return [];
    if (!Array.isArray(v)) { err('structure', at, 'must be an array'); return []; }
    return v as Json[];
  };
  const actorAudiences: string[] = [];
  list(p.actor, `${path}.actor`).forEach((a, i) => {
    const at = `${path}.actor[${i}]`;
    const roleCodes = (a?.role?.coding ?? []).filter((c: Json) => !c.system || c.system === AUDIENCE_SYSTEM).map((c: Json) => String(c.code));
    const ref = typeof a?.reference?.reference === 'string' ? a.reference.reference : undefined;
    const refAudience = ref?.startsWith('Group/') ? ref.slice('Group/'.length) : undefined;
    if (!a?.role && !a?.reference) err('required', at, 'an actor needs role and reference');
    if (ref && !refAudience) err('not-supported', `${at}.reference`, `actor references must name an audience as Group/<audience>, not ${JSON.stringify(ref)}`);
    const named = [...roleCodes, ...(refAudience ? [refAudience] : [])];
    if (!named.length && !ref) err('required', `${at}.role`, `the actor role must be coded in ${AUDIENCE_SYSTEM}`);
    for (const aud of named) {
      if (!audiences.has(aud)) err('code-invalid', at, `unknown audience ${JSON.stringify(aud)}; known: ${[...audiences].join(', ')}`);
      else actorAudiences.push(aud);
    }
  });
  const codes = (v: unknown, at: string, allowed?: Set<string>, field = 'coding'): string[] =>
    list(v, at).flatMap((cc, i) => {
      const codings: Json[] = field === 'self' ? [cc] : cc?.coding ?? [];
      if (!codings.length || codings.some((c) => typeof c?.code !== 'string')) { err('required', `${at}[${i}]`, 'a code is required'); return []; }
      return codings.map((c) => {
        if (allowed && !allowed.has(c.code)) err('code-invalid', `${at}[${i}]`, `unknown code ${JSON.stringify(c.code)}`);
        return String(c.code);
      });
    });
  const provision: ConsentProvision = {
    type: p.type === 'permit' ? 'permit' : 'deny',
    period: interval(p.period, `${path}.period`, err),
    audiences: [...new Set(actorAudiences)],
    actions: codes(p.action, `${path}.action`, ACTIONS),
    securityLabels: codes(p.securityLabel, `${path}.securityLabel`, LABELS, 'self'),
    purposes: codes(p.purpose, `${path}.purpose`, PURPOSES, 'self'),
    classes: codes(p.class, `${path}.class`, undefined, 'self'),
    codes: list(p.code, `${path}.code`).flatMap((cc) => (cc?.coding ?? []).map((c: Json) => `${c.system}|${c.code}`)),
    dataPeriod: interval(p.dataPeriod, `${path}.dataPeriod`, err),
    provisions: list(p.provision, `${path}.provision`).map((inner, i) => parseProvision(inner, `${path}.provision[${i}]`, audiences, err)),
  };
  return provision;
}

function interval(v: Json | undefined, at: string, err: (code: ConsentIssue['code'], expression: string, diagnostics: string) => void): Interval | undefined {
  if (v === undefined) return undefined;
  const out: Interval = {};
  for (const k of ['start', 'end'] as const) {
    if (v[k] === undefined) continue;
    if (!validDate(v[k])) err('value', `${at}.${k}`, `${JSON.stringify(v[k])} is not a FHIR dateTime`);
    else out[k] = Date.parse(v[k]);
  }
  if (out.start !== undefined && out.end !== undefined && out.end < out.start) err('value', at, 'the period ends before it starts');
  return out;
}

function validDate(v: unknown): boolean {
  return typeof v === 'string' && /^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/.test(v) && !Number.isNaN(Date.parse(v));
}
